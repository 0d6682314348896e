with

source as (

    select * from {{ source('raw', 'population_groups') }}

),

renamed as (

    select
        -- ids
        lsoa_code,
        characteristic,
        group_value,

        -- population
        population_year,
        population,

        -- load metadata
        _loaded_at as loaded_at,
        _source_file as source_file

    from source

)

select * from renamed
