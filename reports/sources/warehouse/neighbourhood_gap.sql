-- One row per neighbourhood (MSOA): need, community capacity and the gap between them over the
-- latest 12 complete months, after disclosure control; scores recomputed from the published
-- rates (orchestration/report_data.py). gap_rank 1 = widest gap.
select
    neighbourhood_code,
    neighbourhood_name,
    neighbourhood_level,
    lad_code,
    lad_name,
    period_start_date,
    period_end_date,
    population_total,
    imd_score_pop_weighted,
    referrals_12m_count,
    referrals_12m_count_is_suppressed,
    referrals_per_1000_12m,
    weekly_places,
    weekly_places_per_1000,
    funding_12m_gbp,
    funding_per_head_12m_gbp,
    need_z,
    weekly_places_per_1000_z,
    funding_per_head_12m_z,
    capacity_z,
    gap_score,
    gap_rank,
    is_underfunded
from icp.neighbourhood_gap
