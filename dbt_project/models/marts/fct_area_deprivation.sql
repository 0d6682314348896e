{#-
    Deprivation of the ICB and of each local authority district in it, summarised from LSOAs
    the way the government's IoD area summaries are: the population-weighted average of LSOA
    IMD scores, and the proportion of the area's LSOAs in the most deprived 10% nationally.
    Only the LSOAs of the ICB's geography lookup are counted, so a local authority that lies
    partly outside the ICB is summarised for its part inside.
-#}
{%- set areas = {'local_authority': ['lad_code', 'lad_name'], 'icb': ['icb_code', 'icb_name']} -%}

with

lsoas as (

    select * from {{ ref('dim_lsoas') }}

),

summarised as (

    {%- for area_type, columns in areas.items() %}
    select
        '{{ area_type }}' as area_type,
        {{ columns[0] }} as area_code,
        min({{ columns[1] }}) as area_name,
        count(*) as lsoa_count,
        count(imd_score) as lsoas_with_imd_count,
        sum(population_total) as population_total,
        sum(population_total * imd_score)
            / nullif(sum(population_total) filter (where imd_score is not null), 0)
            as imd_score_pop_weighted,
        100.0 * count(*) filter (where imd_decile = 1) / nullif(count(imd_decile), 0)
            as share_lsoas_most_deprived_decile_pct,
        100.0 * coalesce(sum(population_total) filter (where imd_decile <= 2), 0)
            / nullif(sum(population_total) filter (where imd_decile is not null), 0)
            as population_core20_pct
    from lsoas
    group by {{ columns[0] }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select
        -- grain
        cast(area_type as varchar) as area_type,
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,

        -- size
        cast(lsoa_count as bigint) as lsoa_count,
        cast(lsoas_with_imd_count as bigint) as lsoas_with_imd_count,
        cast(population_total as bigint) as population_total,

        -- deprivation
        cast(imd_score_pop_weighted as double) as imd_score_pop_weighted,
        cast(share_lsoas_most_deprived_decile_pct as double)
            as share_lsoas_most_deprived_decile_pct,
        cast(population_core20_pct as double) as population_core20_pct,
        cast(
            rank() over (partition by area_type order by imd_score_pop_weighted desc)
            as bigint
        ) as imd_score_rank_in_icb

    from summarised

)

select * from final
