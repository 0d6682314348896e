{#- The latest month of fct_neighbourhood_need_capacity_index, under the column names the
    report reads: the gap is worked out once, in the index (doc block neighbourhood_gap_method). -#}
with

latest as (

    select * from {{ ref('fct_neighbourhood_need_capacity_index') }}
    where is_latest_month

),

final as (

    select
        -- ids
        cast(neighbourhood_code as varchar) as neighbourhood_code,
        cast(lad_code as varchar) as lad_code,

        -- names
        cast(neighbourhood_name as varchar) as neighbourhood_name,
        cast(neighbourhood_level as varchar) as neighbourhood_level,
        cast(lad_name as varchar) as lad_name,

        -- window
        cast(period_start_date as date) as period_start_date,
        cast(period_end_date as date) as period_end_date,
        cast(months_count as bigint) as months_count,

        -- context
        cast(population_total as bigint) as population_total,
        cast(imd_score_pop_weighted as double) as imd_score_pop_weighted,
        cast(is_core20 as boolean) as is_core20,

        -- need
        cast(referrals_12m_count as bigint) as referrals_12m_count,
        cast(referrals_per_1000_12m as double) as referrals_per_1000_12m,

        -- capacity
        cast(weekly_places as double) as weekly_places,
        cast(weekly_places_per_1000 as double) as weekly_places_per_1000,
        cast(funding_12m_gbp as double) as funding_12m_gbp,
        cast(funding_per_head_12m_gbp as double) as funding_per_head_12m_gbp,

        -- scores
        cast(need_index as double) as need_z,
        cast(weekly_places_per_1000_z as double) as weekly_places_per_1000_z,
        cast(funding_per_head_12m_gbp_z as double) as funding_per_head_12m_z,
        cast(capacity_index as double) as capacity_z,
        cast(gap_score as double) as gap_score,
        cast(gap_rank as bigint) as gap_rank,
        cast(is_underfunded as boolean) as is_underfunded

    from latest

)

select * from final
