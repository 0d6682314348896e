{#- Method: see doc block need_capacity_index_method in _marts__docs.md. -#}
{%- set need_weights = var('need_index_weights') -%}
{%- set capacity_weights = var('capacity_index_weights') -%}
{#- components with weight 0 are shown but cannot be the reason an index is high or low -#}
{%- set need_drivers = {} -%}
{%- for component, weight in need_weights.items() if weight != 0 -%}
{%- do need_drivers.update({component: weight}) -%}
{%- endfor -%}
{%- set capacity_drivers = {} -%}
{%- for component, weight in capacity_weights.items() if weight != 0 -%}
{%- do capacity_drivers.update({component: weight}) -%}
{%- endfor -%}
{%- if not need_drivers or not capacity_drivers -%}
{{ exceptions.raise_compiler_error(
    "need_index_weights and capacity_index_weights each need at least one weight above 0"
) }}
{%- endif %}

with

monthly as (

    select * from {{ ref('fct_neighbourhood_need_capacity_monthly') }}

),

neighbourhoods as (

    select * from {{ ref('dim_neighbourhoods') }}

),

-- sums over the 12 months ending with each month (fewer at the start of the data)
rolling as (

    select
        neighbourhood_code,
        month_start_date,
        is_complete_month,
        population_total,
        imd_score_pop_weighted,
        weekly_places,
        -- places unknown for every activity running there: the component is unknown (counts
        -- as average below), not 0
        case
            when weekly_places = 0 and activities_unknown_capacity_count > 0 then null
            else weekly_places_per_1000
        end as weekly_places_per_1000,
        activities_unknown_capacity_count,
        min(month_start_date) over trailing_12 as period_start_date,
        count(*) over trailing_12 as months_count,
        sum(referrals_count) over trailing_12 as referrals_12m_count,
        sum(onward_referrals_count) over trailing_12 as onward_referrals_12m_count,
        sum(onward_referrals_refused_no_capacity_count + onward_referrals_waitlisted_count)
            over trailing_12 as onward_referrals_unmet_12m_count,
        sum(funding_gbp) over trailing_12 as funding_12m_gbp,
        avg(link_worker_fte) over trailing_12 as link_worker_fte_mean_12m
    from monthly
    window trailing_12 as (
        partition by neighbourhood_code
        order by month_start_date
        rows between 11 preceding and current row
    )

),

complete_months as (

    select
        *,
        month_start_date = max(month_start_date) over () as is_latest_month
    from rolling
    where is_complete_month

),

components as (

    select
        complete_months.*,
        neighbourhoods.neighbourhood_name,
        neighbourhoods.neighbourhood_level,
        neighbourhoods.lad_code,
        neighbourhoods.lad_name,
        neighbourhoods.is_core20,
        1000.0 * complete_months.referrals_12m_count
            / nullif(complete_months.population_total, 0) as referrals_per_1000_12m,
        100.0 * complete_months.onward_referrals_unmet_12m_count
            / nullif(complete_months.onward_referrals_12m_count, 0)
            as onward_referrals_unmet_pct_12m,
        complete_months.funding_12m_gbp
            / nullif(complete_months.population_total, 0) as funding_per_head_12m_gbp,
        10000.0 * complete_months.link_worker_fte_mean_12m
            / nullif(complete_months.population_total, 0) as link_worker_fte_per_10k
    from complete_months
    inner join neighbourhoods
        on complete_months.neighbourhood_code = neighbourhoods.neighbourhood_code

),

z_scores as (

    select
        *,
        {%- for component in (need_weights.keys() | list) + (capacity_weights.keys() | list) %}
        {{ z_score(component, 'month_start_date') }} as {{ component }}_z{{ ',' if not loop.last }}
        {%- endfor %}
    from components

),

-- weighted mean of the standardised components; a missing component counts as average (0)
indices as (

    select
        *,
        {%- for index_name, weights in [('need_index', need_weights), ('capacity_index', capacity_weights)] %}
        (
            {%- for component, weight in weights.items() %}
            {{ weight }} * coalesce({{ component }}_z, 0){{ ' +' if not loop.last }}
            {%- endfor %}
        ) / {{ weights.values() | sum }} as {{ index_name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from z_scores

),

-- the component pushing each index furthest: weight x z, largest for need, smallest for
-- capacity, among components with a weight above 0 (ties go to the one listed first)
drivers as (

    select
        *,
        case
            {%- for component, weight in need_drivers.items() %}
            when {{ weight }} * coalesce({{ component }}_z, 0) = greatest(
                {%- for other, other_weight in need_drivers.items() %}
                {{ other_weight }} * coalesce({{ other }}_z, 0){{ ',' if not loop.last }}
                {%- endfor %}
            ) then '{{ component }}'
            {%- endfor %}
        end as need_main_component,
        case
            {%- for component, weight in capacity_drivers.items() %}
            when {{ weight }} * coalesce({{ component }}_z, 0) = least(
                {%- for other, other_weight in capacity_drivers.items() %}
                {{ other_weight }} * coalesce({{ other }}_z, 0){{ ',' if not loop.last }}
                {%- endfor %}
            ) then '{{ component }}'
            {%- endfor %}
        end as capacity_weakest_component
    from indices

),

ranked as (

    select
        *,
        need_index - capacity_index as gap_score,
        row_number() over (
            partition by month_start_date
            order by need_index - capacity_index desc, neighbourhood_code
        ) as gap_rank,
        ntile(5) over (partition by month_start_date order by need_index, neighbourhood_code)
            as need_quintile,
        ntile(5) over (partition by month_start_date order by capacity_index, neighbourhood_code)
            as capacity_quintile
    from drivers

),

final as (

    select
        -- grain
        cast(neighbourhood_code as varchar) as neighbourhood_code,
        cast(month_start_date as date) as month_start_date,
        cast(is_latest_month as boolean) as is_latest_month,

        -- names
        cast(neighbourhood_name as varchar) as neighbourhood_name,
        cast(neighbourhood_level as varchar) as neighbourhood_level,
        cast(lad_code as varchar) as lad_code,
        cast(lad_name as varchar) as lad_name,

        -- window
        cast(period_start_date as date) as period_start_date,
        cast({{ dbt.last_day('month_start_date', 'month') }} as date) as period_end_date,
        cast(months_count as bigint) as months_count,

        -- context
        cast(population_total as bigint) as population_total,
        cast(is_core20 as boolean) as is_core20,

        -- need components
        cast(referrals_12m_count as bigint) as referrals_12m_count,
        cast(referrals_per_1000_12m as double) as referrals_per_1000_12m,
        cast(imd_score_pop_weighted as double) as imd_score_pop_weighted,
        cast(onward_referrals_12m_count as bigint) as onward_referrals_12m_count,
        cast(onward_referrals_unmet_12m_count as bigint) as onward_referrals_unmet_12m_count,
        cast(onward_referrals_unmet_pct_12m as double) as onward_referrals_unmet_pct_12m,

        -- capacity components
        cast(weekly_places as double) as weekly_places,
        cast(weekly_places_per_1000 as double) as weekly_places_per_1000,
        cast(activities_unknown_capacity_count as bigint) as activities_unknown_capacity_count,
        cast(activities_unknown_capacity_count > 0 as boolean) as is_capacity_partly_unknown,
        cast(funding_12m_gbp as double) as funding_12m_gbp,
        cast(funding_per_head_12m_gbp as double) as funding_per_head_12m_gbp,
        cast(link_worker_fte_mean_12m as double) as link_worker_fte_mean_12m,
        cast(link_worker_fte_per_10k as double) as link_worker_fte_per_10k,

        -- standardised components
        {%- for component in (need_weights.keys() | list) + (capacity_weights.keys() | list) %}
        cast({{ component }}_z as double) as {{ component }}_z,
        {%- endfor %}

        -- index, gap and flag
        cast(need_index as double) as need_index,
        cast(capacity_index as double) as capacity_index,
        cast(need_main_component as varchar) as need_main_component,
        cast(capacity_weakest_component as varchar) as capacity_weakest_component,
        cast(gap_score as double) as gap_score,
        cast(gap_rank as bigint) as gap_rank,
        cast(need_quintile as integer) as need_quintile,
        cast(capacity_quintile as integer) as capacity_quintile,
        cast(
            need_quintile >= {{ var('underfunded_min_need_quintile') }}
            and capacity_quintile <= {{ var('underfunded_max_capacity_quintile') }}
            as boolean
        ) as is_underfunded

    from ranked

)

select * from final
