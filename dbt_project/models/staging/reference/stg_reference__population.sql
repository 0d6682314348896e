with

source as (

    select * from {{ source('raw', 'population') }}

),

renamed as (

    select
        -- ids
        lsoa_code,

        -- population
        population_year,
        population_total,
        population_aged_65_plus,

        -- load metadata
        _loaded_at as loaded_at,
        _source_file as source_file

    from source

)

select * from renamed
