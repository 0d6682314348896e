with

lsoas as (

    select * from {{ ref('int_lsoas_mapped_to_neighbourhoods') }}

),

local_authority_populations as (

    select
        neighbourhood_code,
        lad_code,
        lad_name,
        sum(population_total) as population_total
    from lsoas
    group by neighbourhood_code, lad_code, lad_name

),

main_local_authorities as (

    select
        neighbourhood_code,
        lad_code,
        lad_name,
        row_number() over (
            partition by neighbourhood_code
            order by population_total desc, lad_code
        ) as population_order
    from local_authority_populations

),

aggregated as (

    select
        neighbourhood_code,
        min(neighbourhood_name) as neighbourhood_name,
        min(neighbourhood_level) as neighbourhood_level,
        min(icb_code) as icb_code,
        min(icb_name) as icb_name,
        count(*) as lsoa_count,
        sum(population_total) as population_total,
        -- IMD summaries over the LSOAs that have an IoD row
        count(imd_decile) as lsoas_with_imd_count,
        sum(case when imd_score is not null then population_total else 0 end)
            as population_with_imd,
        sum(population_total * imd_score) as imd_score_population_product,
        sum(case when imd_decile = 1 then 1 else 0 end) as lsoas_most_deprived_decile_count,
        sum(case when imd_decile <= 2 then population_total else 0 end)
            as population_core20,
        sum(case when imd_decile is not null then population_total else 0 end)
            as population_with_decile
    from lsoas
    group by neighbourhood_code

),

final as (

    select
        -- ids
        cast(aggregated.neighbourhood_code as varchar) as neighbourhood_code,
        cast(main_local_authorities.lad_code as varchar) as lad_code,
        cast(aggregated.icb_code as varchar) as icb_code,

        -- names
        cast(aggregated.neighbourhood_name as varchar) as neighbourhood_name,
        cast(aggregated.neighbourhood_level as varchar) as neighbourhood_level,
        cast(main_local_authorities.lad_name as varchar) as lad_name,
        cast(aggregated.icb_name as varchar) as icb_name,

        -- size
        cast(aggregated.population_total as bigint) as population_total,
        cast(aggregated.lsoa_count as bigint) as lsoa_count,
        cast(aggregated.lsoas_with_imd_count as bigint) as lsoas_with_imd_count,

        -- deprivation
        cast(
            aggregated.imd_score_population_product / nullif(aggregated.population_with_imd, 0)
            as double
        ) as imd_score_pop_weighted,
        cast(
            100.0 * aggregated.lsoas_most_deprived_decile_count
            / nullif(aggregated.lsoas_with_imd_count, 0)
            as double
        ) as share_lsoas_most_deprived_decile_pct,
        cast(
            100.0 * aggregated.population_core20 / nullif(aggregated.population_with_decile, 0)
            as double
        ) as population_core20_pct,
        cast(
            coalesce(2 * aggregated.population_core20 > aggregated.population_with_decile, false)
            as boolean
        ) as is_core20

    from aggregated
    inner join main_local_authorities
        on aggregated.neighbourhood_code = main_local_authorities.neighbourhood_code
        and main_local_authorities.population_order = 1

)

select * from final
