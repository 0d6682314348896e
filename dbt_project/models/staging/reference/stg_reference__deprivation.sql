{%- set domains = [
    'income',
    'employment',
    'education',
    'health',
    'crime',
    'barriers',
    'living_environment',
] -%}

with

source as (

    select * from {{ source('raw', 'deprivation') }}

),

renamed as (

    select
        -- ids
        lsoa_code,
        lad_code,

        -- names
        lsoa_name,
        lad_name,

        -- index of multiple deprivation (rank 1 and decile 1 most deprived)
        imd_score,
        imd_rank,
        imd_decile,
        imd_decile = 1 as is_most_deprived_decile,
        imd_decile <= 2 as is_core20,

        -- domains (may be absent from thinner file layouts)
        {%- for domain in domains %}
        {{ domain }}_score,
        {{ domain }}_rank,
        {{ domain }}_decile,
        {%- endfor %}

        -- population denominator published with the indices
        population_total as iod_population_total,

        -- vintage (null in files that do not say)
        iod_edition,

        -- the LSOA's sub-ICB location and ICB (not File 7 columns; null where not given)
        sub_icb_code,
        sub_icb_name,
        icb_code,
        icb_name,

        -- the LSOA's MSOA, ward and region (not File 7 columns; null where not given)
        msoa_code,
        ward_code,
        region_code,

        -- load metadata
        _loaded_at as loaded_at,
        _source_file as source_file

    from source

)

select * from renamed
