with

source as (

    select * from {{ source('raw', 'geography') }}

),

renamed as (

    select
        -- ids
        lsoa_code,
        msoa_code,
        ward_code,
        lad_code,
        sub_icb_code,
        icb_code,

        -- names
        lsoa_name,
        msoa_name,
        ward_name,
        lad_name,
        sub_icb_name,
        icb_name,

        -- flags
        coalesce(is_fictional, false) as is_fictional,

        -- load metadata
        _loaded_at as loaded_at,
        _source_file as source_file

    from source

)

select * from renamed
