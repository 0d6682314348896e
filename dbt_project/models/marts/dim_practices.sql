with

practices as (

    select * from {{ ref('stg_reference__practices') }}

),

lsoas as (

    select * from {{ ref('int_lsoas_mapped_to_neighbourhoods') }}

),

final as (

    select
        -- ids
        cast(practices.practice_code as varchar) as practice_code,
        cast(practices.pcn_code as varchar) as pcn_code,
        cast(practices.lsoa_code as varchar) as lsoa_code,
        cast(lsoas.neighbourhood_code as varchar) as neighbourhood_code,

        -- names
        cast(practices.practice_name as varchar) as practice_name,
        cast(practices.pcn_name as varchar) as pcn_name,

        -- list size
        cast(practices.registered_patients as bigint) as registered_patients

    from practices
    left join lsoas
        on practices.lsoa_code = lsoas.lsoa_code

)

select * from final
