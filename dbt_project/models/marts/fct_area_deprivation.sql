{#-
    The IoD area summaries of every local authority district in the deprivation source and of
    the ICB and its sub-ICB locations, typed under the contract. The formulas are in
    ingest.reference.summaries, run by int_lsoas_summarised_to_areas (a Python model), so the
    mart and `icb-insight reference la-summaries` compute them once.
-#}

with

summaries as (

    select * from {{ ref('int_lsoas_summarised_to_areas') }}

),

final as (

    select
        -- grain
        cast(area_type as varchar) as area_type,
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,

        -- size
        cast(lsoa_count as bigint) as lsoa_count,
        cast(population_total as bigint) as population_total,
        cast(ranked_among_count as bigint) as ranked_among_count,
        cast(national_lsoa_count as bigint) as national_lsoa_count,

        -- summary measures, each with its rank among the areas of its type (1 most deprived)
        cast(imd_average_rank as double) as imd_average_rank,
        cast(imd_average_rank_rank as bigint) as imd_average_rank_rank,
        cast(imd_average_score as double) as imd_average_score,
        cast(imd_average_score_rank as bigint) as imd_average_score_rank,
        cast(imd_proportion_lsoas_most_deprived_10pct as double)
            as imd_proportion_lsoas_most_deprived_10pct,
        cast(imd_proportion_lsoas_most_deprived_10pct_rank as bigint)
            as imd_proportion_lsoas_most_deprived_10pct_rank,
        cast(imd_extent as double) as imd_extent,
        cast(imd_extent_rank as bigint) as imd_extent_rank,
        cast(imd_local_concentration as double) as imd_local_concentration,
        cast(imd_local_concentration_rank as bigint) as imd_local_concentration_rank

    from summaries

)

select * from final
