-- One row per neighbourhood (MSOA) with its local authority, population and deprivation.
select
    neighbourhood_code,
    neighbourhood_name,
    lad_code,
    lad_name,
    population_total,
    imd_score_pop_weighted
from icp.neighbourhoods
