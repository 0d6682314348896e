with

lsoas as (

    select * from {{ ref('int_lsoas_mapped_to_neighbourhoods') }}

),

final as (

    select
        -- ids
        cast(lsoa_code as varchar) as lsoa_code,
        cast(neighbourhood_code as varchar) as neighbourhood_code,
        cast(msoa_code as varchar) as msoa_code,
        cast(ward_code as varchar) as ward_code,
        cast(lad_code as varchar) as lad_code,
        cast(pcn_code as varchar) as pcn_code,
        cast(icb_code as varchar) as icb_code,

        -- names
        cast(lsoa_name as varchar) as lsoa_name,
        cast(neighbourhood_name as varchar) as neighbourhood_name,
        cast(neighbourhood_level as varchar) as neighbourhood_level,
        cast(lad_name as varchar) as lad_name,
        cast(icb_name as varchar) as icb_name,

        -- population
        cast(population_total as bigint) as population_total,
        cast(has_population_estimate as boolean) as has_population_estimate,

        -- deprivation
        cast(imd_score as double) as imd_score,
        cast(imd_rank as bigint) as imd_rank,
        cast(imd_decile as integer) as imd_decile,
        cast(ceil(imd_decile / 2.0) as integer) as imd_quintile,
        cast(imd_decile = 1 as boolean) as is_most_deprived_decile,
        cast(imd_decile <= 2 as boolean) as is_core20

    from lsoas

)

select * from final
