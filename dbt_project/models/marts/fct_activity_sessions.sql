{#- Activity sessions held up to the as-of date, placed in the neighbourhood of the venue. -#}
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
            as utilisation_pct

    from sessions
    inner join dates
        on sessions.session_date = dates.date_day
    left join activities
        on sessions.activity_id = activities.activity_id

)

select * from final
