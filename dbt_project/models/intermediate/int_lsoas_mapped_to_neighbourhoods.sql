{#- The neighbourhood an LSOA belongs to depends on var neighbourhood_level. -#}
{%- set level = neighbourhood_level() -%}

with

geography as (

    select * from {{ ref('stg_reference__geography') }}

),

population as (

    select * from {{ ref('stg_reference__population') }}

),

deprivation as (

    select * from {{ ref('stg_reference__deprivation') }}

),

mapped as (

    select
        -- ids
        geography.lsoa_code,
        geography.{{ neighbourhood_code_column() }} as neighbourhood_code,
        geography.lad_code,
        geography.icb_code,

        -- names
        geography.lsoa_name,
        geography.{{ neighbourhood_name_column() }} as neighbourhood_name,
        '{{ level }}' as neighbourhood_level,
        geography.lad_name,
        geography.icb_name,

        -- population (ONS mid-year estimate; 0 when the LSOA has none loaded)
        coalesce(population.population_total, 0) as population_total,
        population.population_total is not null as has_population_estimate,

        -- deprivation (national IMD; null when the LSOA has no IoD row)
        deprivation.imd_score,
        deprivation.imd_rank,
        deprivation.imd_decile

    from geography
    left join population
        on geography.lsoa_code = population.lsoa_code
    left join deprivation
        on geography.lsoa_code = deprivation.lsoa_code

)

select * from mapped
