-- One row per neighbourhood (MSOA): need, community capacity and the gap between them over the
-- latest 12 complete months. gap_rank 1 = widest gap.
select
    neighbourhood_code,
    neighbourhood_name,
    neighbourhood_level,
    lad_name,
    period_start_date,
    period_end_date,
    population_total,
    imd_score_pop_weighted,
    referrals_12m_count,
    referrals_per_1000_12m,
    weekly_places,
    weekly_places_per_1000,
    funding_12m_gbp,
    funding_per_head_12m_gbp,
    need_z,
    capacity_z,
    gap_score,
    gap_rank
from marts.fct_neighbourhood_gap
