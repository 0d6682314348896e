with

source as (

    select * from {{ source('raw', 'providers') }}

),

renamed as (

    select
        -- ids
        provider_id,
        base_lsoa_code,

        -- provider
        provider_name,
        provider_type,
        is_volunteer_led,

        -- load metadata
        _loaded_at as loaded_at,
        _source_file as source_file

    from source

)

select * from renamed
