-- One row per neighbourhood and month, plus one whole-ICB row per month (is_total): referrals
-- (need) beside community places and funding, after disclosure control (null = suppressed).
select
    neighbourhood_code,
    neighbourhood_name,
    lad_code,
    lad_name,
    is_total,
    month_start_date,
    is_complete_month,
    population_total,
    referrals_count,
    referrals_count_is_suppressed,
    referrals_per_1000,
    onward_referrals_count,
    onward_referrals_count_is_suppressed,
    onward_referrals_refused_no_capacity_count,
    onward_referrals_refused_no_capacity_count_is_suppressed,
    activities_active_count,
    weekly_places,
    weekly_places_per_1000,
    funding_gbp,
    funding_per_head_gbp
from icp.neighbourhood_monthly
