{#-
    Every area a 360Giving beneficiary location may name, with the LSOAs it holds: one row
    per area and LSOA, over every LSOA the warehouse knows in England. The ICB's LSOAs come
    from the geography lookup (every level, and the neighbourhood each belongs to); the rest
    from the deprivation file, which the reference preparation loads for all of England
    with each LSOA's local authority, sub-ICB location and ICB. So the population of an area
    partly outside the ICB is known as a whole, and the share inside can be taken.
    Levels: lsoa (E01), msoa (E02), ward (E05), lad (E06-E09), sub_icb (E38), icb (E54),
    region (E12) and country (E92000001, England: every E01 LSOA). Outside the ICB, the MSOA,
    ward and region are the deprivation file's msoa_code, ward_code and region_code, written
    by `icb-insight reference prepare` (empty in files without them: such an area is then
    known by its LSOAs inside the ICB only, as if wholly inside).
-#}
{%- set levels = ['lsoa', 'msoa', 'ward', 'lad', 'sub_icb', 'icb', 'region', 'country'] -%}
with

geography as (

    select * from {{ ref('stg_reference__geography') }}

),

icb_lsoas as (

    select * from {{ ref('int_lsoas_mapped_to_neighbourhoods') }}

),

deprivation as (

    select * from {{ ref('stg_reference__deprivation') }}

),

-- the ICB's LSOAs, every level from the geography lookup
inside as (

    select
        icb_lsoas.lsoa_code,
        icb_lsoas.msoa_code,
        icb_lsoas.ward_code,
        icb_lsoas.lad_code,
        geography.sub_icb_code,
        icb_lsoas.icb_code,
        deprivation.region_code,
        case when icb_lsoas.lsoa_code like 'E01%' then 'E92000001' end as country_code,
        icb_lsoas.neighbourhood_code,
        icb_lsoas.population_total,
        true as is_in_icb
    from icb_lsoas
    inner join geography
        on icb_lsoas.lsoa_code = geography.lsoa_code
    left join deprivation
        on icb_lsoas.lsoa_code = deprivation.lsoa_code

),

-- every other LSOA in England the deprivation file holds
outside as (

    select
        deprivation.lsoa_code,
        deprivation.msoa_code,
        deprivation.ward_code,
        deprivation.lad_code,
        deprivation.sub_icb_code,
        deprivation.icb_code,
        deprivation.region_code,
        case when deprivation.lsoa_code like 'E01%' then 'E92000001' end as country_code,
        cast(null as varchar) as neighbourhood_code,
        coalesce(deprivation.iod_population_total, 0) as population_total,
        false as is_in_icb
    from deprivation
    where deprivation.lsoa_code not in (select lsoa_code from geography)

),

lsoas as (

    select * from inside
    union all
    select * from outside

),

areas as (

    {%- for level in levels %}
    select
        {{ level }}_code as area_code,
        '{{ level }}' as area_level,
        lsoa_code,
        neighbourhood_code,
        population_total,
        is_in_icb
    from lsoas
    where {{ level }}_code is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

)

select * from areas
