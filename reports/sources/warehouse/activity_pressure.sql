-- Activities persistently over capacity, or taking referrals while their provider has no
-- funding, in the latest complete week.
select
    activity_id,
    activity_name,
    provider_name,
    category,
    neighbourhood_name,
    lad_name,
    week_start_date,
    weekly_places,
    weeks_with_sessions_12w,
    weeks_over_capacity_12w,
    is_persistently_over_capacity,
    is_referred_without_funding,
    onward_referrals_12w_count
from icp.activity_pressure
