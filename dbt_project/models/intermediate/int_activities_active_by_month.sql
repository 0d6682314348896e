{#-
    One row per activity per month in which it was running at any point: started on or
    before the end of the covered period of the month, and not ended before the month began.
    Placed in the neighbourhood of its venue.
-#}
with

activities as (

    select * from {{ ref('stg_community__activities') }}

),

lsoas as (

    select * from {{ ref('int_lsoas_mapped_to_neighbourhoods') }}

),

months as (

    select * from {{ ref('int_months') }}

),

active_months as (

    select
        -- ids
        activities.activity_id,
        months.month_start_date,
        activities.provider_id,
        lsoas.neighbourhood_code,

        -- activity
        activities.category,
        activities.sessions_per_week,
        activities.places_per_session,
        activities.weekly_places

    from activities
    inner join lsoas
        on activities.venue_lsoa_code = lsoas.lsoa_code
    inner join months
        on activities.start_date <= months.period_end_date
        and (activities.end_date is null or activities.end_date >= months.month_start_date)

)

select * from active_months
