-- One row per neighbourhood and month: referrals (need) beside community places and funding.
select
    neighbourhood_code,
    month_start_date,
    is_complete_month,
    population_total,
    referrals_count,
    referrals_per_1000,
    onward_referrals_count,
    activities_active_count,
    weekly_places,
    weekly_places_per_1000,
    funding_gbp,
    funding_per_head_gbp,
    imd_score_pop_weighted
from marts.fct_neighbourhood_need_capacity_monthly
