{{ config(severity='warn') }}
-- Each characteristic's groups (age bands, sexes, ethnic groups) add up to the LSOA's
-- population of the same year. A warning, not an error: published age and ethnicity figures
-- can come from different releases (mid-year estimates, census) and differ a little.

with

groups as (

    select
        lsoa_code,
        characteristic,
        population_year,
        sum(population) as population_in_groups
    from {{ ref('stg_reference__population_groups') }}
    group by lsoa_code, characteristic, population_year

),

population as (

    select * from {{ ref('stg_reference__population') }}

)

select
    groups.lsoa_code,
    groups.characteristic,
    groups.population_in_groups,
    population.population_total
from groups
inner join population
    on groups.lsoa_code = population.lsoa_code
    and groups.population_year = population.population_year
where groups.population_in_groups != population.population_total
