{#- Activity sessions held up to the as-of date, placed in the neighbourhood of the venue. -#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ incremental_delete_from_first_month('session_month_start_date', 'session_date', {'name': 'activity_sessions', 'period': 'session_date'}, snapshots=['geography', 'providers', 'activities'], stale_checks=[['activity_id, neighbourhood_code', 'dim_activities', 'activity_id, neighbourhood_code']]) }}",
    )
}}
-- depends_on: {{ ref('dim_activities') }}
with

sessions as (

    select * from {{ ref('stg_community__activity_sessions') }}

),

activities as (

    select * from {{ ref('dim_activities') }}

),

dates as (

    select * from {{ ref('int_days') }}

),

final as (

    select
        -- ids
        cast(sessions.activity_id as varchar) as activity_id,
        cast(sessions.session_date as date) as session_date,
        cast(activities.provider_id as varchar) as provider_id,
        cast(activities.neighbourhood_code as varchar) as neighbourhood_code,

        -- dates
        cast(dates.week_start_date as date) as session_week_start_date,
        cast(dates.month_start_date as date) as session_month_start_date,
        cast(dates.quarter_start_date as date) as session_quarter_start_date,

        -- attendance
        cast(sessions.places_available as bigint) as places_available,
        cast(sessions.attendees as bigint) as attendees,
        cast(sessions.referred_attendees as bigint) as referred_attendees,
        cast(sessions.is_full as boolean) as is_full,
        cast(100.0 * sessions.attendees / nullif(sessions.places_available, 0) as double)
            as utilisation_pct,

        -- load metadata
        cast(sessions.loaded_at as timestamp) as loaded_at

    from sessions
    inner join dates
        on sessions.session_date = dates.date_day
    left join activities
        on sessions.activity_id = activities.activity_id
    {% if is_incremental() -%}
    where {{ incremental_after_kept_months('sessions.session_date', 'session_month_start_date') }}
    {%- endif %}

)

select * from final
