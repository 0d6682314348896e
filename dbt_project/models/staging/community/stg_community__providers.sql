{#-
    A directory's file replaces only its own directory's rows, so one provider_id can be in
    two directories' loads: the row loaded last is kept.
    org_id: as published, else provider_id when it has the form of an org-id (a register
    prefix such as GB-CHC-, or 360G-), as in files of our own.
-#}
with

source as (

    select * from {{ source('raw', 'providers') }}
    qualify row_number() over (
        partition by provider_id order by _loaded_at desc, directory_id nulls last
    ) = 1

),

renamed as (

    select
        -- ids
        directory_id,
        provider_id,
        coalesce(
            org_id,
            case
                when regexp_full_match(provider_id, '([A-Z]{2}-[A-Z0-9]{2,}-.+|360G-.+)')
                    then provider_id
            end
        ) as org_id,
        charity_number,
        company_number,
        base_lsoa_code,

        -- provider
        provider_name,
        provider_type,
        is_volunteer_led,
        record_updated_date,

        -- load metadata
        _loaded_at as loaded_at,
        _source_file as source_file

    from source

)

select * from renamed
