-- Deprivation of the ICB and of each local authority, as the IoD area summaries compute it.
select
    area_type,
    area_code,
    area_name,
    lsoa_count,
    population_total,
    imd_score_pop_weighted,
    share_lsoas_most_deprived_decile_pct,
    population_core20_pct,
    imd_score_rank_in_icb,
    areas_count
from icp.area_deprivation
