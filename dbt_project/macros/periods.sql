{#-
    Period grains the neighbourhood marts come in: the spine model, its key column and the
    flag saying the period is wholly on or before the as-of date. `period` is month, week or quarter.
-#}
{% macro period_spine(period) -%}
    {%- set spines = {
        'month': {
            'model': 'int_months',
            'key': 'month_start_date',
            'complete': 'is_complete_month',
        },
        'week': {
            'model': 'int_weeks',
            'key': 'week_start_date',
            'complete': 'is_complete_week',
        },
        'quarter': {
            'model': 'int_quarters',
            'key': 'quarter_start_date',
            'complete': 'is_complete_quarter',
        },
    } -%}
    {%- if period not in spines -%}
        {{ exceptions.raise_compiler_error("period must be month, week or quarter, not " ~ period) }}
    {%- endif -%}
    {{ return(spines[period]) }}
{%- endmacro %}

{#-
    Each grant spread evenly per day over its planned period (planned_start_date to
    planned_end_date, both included) and cut into the periods of a spine (int_months or
    int_weeks): funding_gbp = amount_per_day_gbp x the grant's days inside the period (up to
    the as-of date in the latest period). Placed in the neighbourhood where the recipient
    provider is based. Periods outside the spine are not kept, nor, given `periods_from` (a
    SQL date expression), periods starting before it: a period mart that rebuilds only its
    latest periods spreads the grants over those alone (a filter on the spread does not
    reach below its joins when it compares with a subquery).
-#}
{% macro funding_spread_over(period, periods_from=none) -%}
{%- set spine = period_spine(period) -%}
with

funding as (

    select * from {{ ref('stg_community__provider_funding') }}

),

providers as (

    select * from {{ ref('stg_community__providers') }}

),

lsoas as (

    select * from {{ ref('int_lsoas_mapped_to_neighbourhoods') }}

),

{%- if periods_from is none %}
periods as (

    select * from {{ ref(spine.model) }}

),
{%- else %}
-- computed first: DuckDB otherwise spreads over every period and filters after the joins
periods as {{ materialized_cte() }} (

    select * from {{ ref(spine.model) }}
    where {{ spine.key }} >= {{ periods_from }}

),
{%- endif %}

overlapping as (

    select
        funding.grant_id,
        periods.{{ spine.key }},
        funding.provider_id,
        lsoas.neighbourhood_code,
        funding.funding_purpose,
        funding.amount_awarded_gbp,
        funding.amount_per_day_gbp,
        greatest(funding.planned_start_date, periods.period_start_date) as funded_from_date,
        least(funding.planned_end_date, periods.period_end_date) as funded_to_date
    from funding
    inner join providers
        on funding.provider_id = providers.provider_id
    inner join lsoas
        on providers.base_lsoa_code = lsoas.lsoa_code
    inner join periods
        on funding.planned_start_date <= periods.period_end_date
        and funding.planned_end_date >= periods.period_start_date

),

final as (

    select
        -- ids
        grant_id,
        {{ spine.key }},
        provider_id,
        neighbourhood_code,

        -- grant
        funding_purpose,
        amount_awarded_gbp,

        -- spread
        {{ dbt.datediff('funded_from_date', 'funded_to_date', 'day') }} + 1 as funded_days,
        amount_per_day_gbp
            * ({{ dbt.datediff('funded_from_date', 'funded_to_date', 'day') }} + 1)
            as funding_gbp

    from overlapping

)

select * from final
{%- endmacro %}

{#-
    One row per activity per period (int_months or int_weeks) in which it ran at any point:
    started on or before the last counted day of the period, and not ended before its first
    counted day. Placed in the neighbourhood of its venue.
-#}
{% macro activities_active_in(period) -%}
{%- set spine = period_spine(period) -%}
with

activities as (

    select * from {{ ref('stg_community__activities') }}

),

lsoas as (

    select * from {{ ref('int_lsoas_mapped_to_neighbourhoods') }}

),

periods as (

    select * from {{ ref(spine.model) }}

),

active_periods as (

    select
        -- ids
        activities.activity_id,
        periods.{{ spine.key }},
        activities.provider_id,
        lsoas.neighbourhood_code,

        -- activity
        activities.category,
        activities.sessions_per_week,
        activities.places_per_session,
        activities.weekly_places,
        activities.is_capacity_known

    from activities
    inner join lsoas
        on activities.venue_lsoa_code = lsoas.lsoa_code
    inner join periods
        -- a start date not published: running throughout
        on (activities.start_date is null or activities.start_date <= periods.period_end_date)
        and (activities.end_date is null or activities.end_date >= periods.period_start_date)

)

select * from active_periods
{%- endmacro %}


{#-
    `materialized` before a CTE's body where the engine takes the hint (DuckDB, Postgres:
    the CTE is computed once, before the joins that read it), nothing elsewhere.
-#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}{%- endmacro %}

{% macro duckdb__materialized_cte() -%}materialized{%- endmacro %}

{% macro postgres__materialized_cte() -%}materialized{%- endmacro %}
