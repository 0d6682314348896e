{#-
    Each beneficiary location code of each grant (trimmed, upper case, each once), with the
    level of the area it names in int_lsoas_in_areas; null when it names no area the
    warehouse knows (another country's code, a retired code, a typing error).
    Grain: grant_id x area_code.
-#}
with

funding as (

    select * from {{ ref('stg_community__provider_funding') }}

),

areas as (

    select distinct area_code, area_level
    from {{ ref('int_lsoas_in_areas') }}

),

grant_codes as (

    select distinct
        grant_id,
        upper(trim(area_code)) as area_code
    from (
        select grant_id, unnest(beneficiary_area_codes) as area_code
        from funding
    )
    where nullif(trim(area_code), '') is not null

),

final as (

    select
        grant_codes.grant_id,
        grant_codes.area_code,
        areas.area_level,
        areas.area_level is not null as is_matched
    from grant_codes
    left join areas
        on grant_codes.area_code = areas.area_code

)

select * from final
