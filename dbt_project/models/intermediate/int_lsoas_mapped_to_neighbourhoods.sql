{#-
    The neighbourhood an LSOA belongs to depends on var neighbourhood_level: a column of the
    geography lookup (lsoa, msoa, ward, lad), the LSOA's assigned PCN (pcn), or a row of the
    CSV file in var neighbourhood_mapping_csv (custom; LSOAs the file leaves out go to a
    neighbourhood 'unmapped', so no population is lost).
-#}
{#-
    A table, not a view: every fact and dimension that places rows in neighbourhoods reads
    it (fct_onward_referrals twice), and as a view each of them would re-run the PCN
    assignment, which counts every referral (about 1 CPU second at England per reader).
-#}
{{ config(materialized='table') }}
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

pcn_assignments as (

    select * from {{ ref('int_lsoas_assigned_to_pcns') }}

),

{% if level == 'custom' -%}
custom_mapping as (

    select
        cast(lsoa_code as varchar) as lsoa_code,
        cast(neighbourhood_name as varchar) as neighbourhood_name
    from read_csv('{{ neighbourhood_mapping_csv() }}', header = true, all_varchar = true)

),

{% endif -%}
neighbourhoods as (

    select
        geography.lsoa_code,
        {%- if level == 'pcn' %}
        pcn_assignments.pcn_code as neighbourhood_code,
        pcn_assignments.pcn_name as neighbourhood_name
        {%- elif level == 'custom' %}
        coalesce(trim(custom_mapping.neighbourhood_name), 'unmapped') as neighbourhood_code,
        coalesce(trim(custom_mapping.neighbourhood_name), 'unmapped') as neighbourhood_name
        {%- else %}
        geography.{{ level }}_code as neighbourhood_code,
        geography.{{ level }}_name as neighbourhood_name
        {%- endif %}
    from geography
    {%- if level == 'pcn' %}
    left join pcn_assignments
        on geography.lsoa_code = pcn_assignments.lsoa_code
    {%- elif level == 'custom' %}
    left join custom_mapping
        on geography.lsoa_code = trim(custom_mapping.lsoa_code)
    {%- endif %}

),

mapped as (

    select
        -- ids
        geography.lsoa_code,
        neighbourhoods.neighbourhood_code,
        geography.msoa_code,
        geography.ward_code,
        geography.lad_code,
        pcn_assignments.pcn_code,
        geography.icb_code,

        -- names
        geography.lsoa_name,
        neighbourhoods.neighbourhood_name,
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
    inner join neighbourhoods
        on geography.lsoa_code = neighbourhoods.lsoa_code
    left join pcn_assignments
        on geography.lsoa_code = pcn_assignments.lsoa_code
    left join population
        on geography.lsoa_code = population.lsoa_code
    left join deprivation
        on geography.lsoa_code = deprivation.lsoa_code

)

select * from mapped
