-- One row per local authority with neighbourhoods in the ICB, and its latest extract package.
select
    lad_code,
    lad_name,
    neighbourhoods_count,
    population_total,
    extract_run_date,
    extract_files
from icp.local_authorities
