with

source as (

    select * from {{ source('raw', 'practices') }}

),

renamed as (

    select
        -- ids
        practice_code,
        pcn_code,
        lsoa_code,

        -- names
        practice_name,
        pcn_name,

        -- list size
        registered_patients,

        -- load metadata
        _loaded_at as loaded_at,
        _source_file as source_file

    from source

)

select * from renamed
