{#-
    One row per directory record of a community provider, with the organisation it is
    (dim_organisations) and the neighbourhood where it is based.
-#}
with

providers as (

    select * from {{ ref('stg_community__providers') }}

),

activities as (

    select * from {{ ref('stg_community__activities') }}

),

lsoas as (

    select * from {{ ref('int_lsoas_mapped_to_neighbourhoods') }}

),

organisation_records as (

    select * from {{ ref('int_organisation_records') }}
    where record_source = 'directory'

),

activity_totals as (

    select
        provider_id,
        count(*) as activities_count
    from activities
    group by provider_id

),

final as (

    select
        -- ids
        cast(providers.provider_id as varchar) as provider_id,
        cast(providers.directory_id as varchar) as directory_id,
        cast(organisation_records.organisation_id as varchar) as organisation_id,
        cast(providers.base_lsoa_code as varchar) as base_lsoa_code,
        cast(lsoas.neighbourhood_code as varchar) as neighbourhood_code,

        -- provider
        cast(providers.provider_name as varchar) as provider_name,
        cast(providers.provider_type as varchar) as provider_type,
        cast(providers.is_volunteer_led as boolean) as is_volunteer_led,
        cast(coalesce(activity_totals.activities_count, 0) as bigint) as activities_count

    from providers
    left join lsoas
        on providers.base_lsoa_code = lsoas.lsoa_code
    left join activity_totals
        on providers.provider_id = activity_totals.provider_id
    left join organisation_records
        on providers.provider_id = organisation_records.source_record_id

)

select * from final
