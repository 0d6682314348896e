-- Deprivation of the ICB and of each of its local authorities, the IoD area summaries
-- (average score; share of LSOAs in the most deprived 10% nationally, in per cent).
select
    area_type,
    area_code,
    area_name,
    lsoa_count,
    population_total,
    ranked_among_count,
    imd_average_score,
    imd_average_score_rank,
    imd_proportion_lsoas_most_deprived_10pct,
    imd_proportion_lsoas_most_deprived_10pct_rank
from icp.area_deprivation
