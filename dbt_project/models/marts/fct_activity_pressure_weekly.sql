{#-
    Referred arrivals against places, per activity and ISO week in which the activity ran,
    with flags for over-prescribing (persistently over capacity) and for activities that take
    referrals while their provider has no funding. Rules in the marts yml and dbt vars
    over_capacity_utilisation_pct and persistently_over_capacity_weeks_pct.

    Incremental by week (macros/incremental.sql): a weekly build rebuilds the weeks from the
    first one the new data touches. Their trailing windows read the 11 weeks before from the
    rows this table keeps (window_kept, from incremental_kept_rows), which a build computed
    the same way, rather than joining those weeks again from the facts.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ incremental_delete_from_first_period('week') }}",
    )
}}
with

-- the weeks this build rebuilds, and the first week their 12-week windows read
rebuilt as (

    select
        rebuilt_from_date,
        cast({{ dbt.dateadd('week', -11, 'rebuilt_from_date') }} as date) as read_from_date
    from (select {{ incremental_period_rebuilt_from() }} as rebuilt_from_date) as first_week

),

-- the window's columns of the kept weeks it reads (none in a whole build)
window_kept as (

    {{ incremental_kept_rows(
        ['activity_id', 'week_start_date', 'sessions_count', 'is_over_capacity',
            'onward_referrals_count'],
        'week_start_date >= (select read_from_date from rebuilt)'
        ~ ' and week_start_date < (select rebuilt_from_date from rebuilt)'
    ) }}

),

activities_active as (

    select * from {{ ref('int_activities_active_by_week') }}
    where week_start_date >= (select rebuilt_from_date from rebuilt)

),

weeks as (

    select * from {{ ref('int_weeks') }}
    where week_start_date >= (select rebuilt_from_date from rebuilt)

),

sessions as (

    select * from {{ ref('fct_activity_sessions') }}
    where session_week_start_date >= (select rebuilt_from_date from rebuilt)

),

onward_referrals as (

    select * from {{ ref('fct_onward_referrals') }}
    where onward_referral_week_start_date >= (select rebuilt_from_date from rebuilt)

),

grants as (

    select * from {{ ref('fct_provider_funding') }}

),

sessions_by_week as (

    select
        activity_id,
        session_week_start_date as week_start_date,
        count(*) as sessions_count,
        count(case when is_full then 1 end) as sessions_full_count,
        sum(places_available) as places_count,
        sum(attendees) as attendees_count,
        sum(referred_attendees) as referred_attendees_count
    from sessions
    group by activity_id, session_week_start_date

),

onward_referrals_by_week as (

    select
        activity_id,
        onward_referral_week_start_date as week_start_date,
        count(*) as onward_referrals_count,
        count(case when is_unmet_for_capacity then 1 end) as onward_referrals_unmet_count
    from onward_referrals
    group by activity_id, onward_referral_week_start_date

),

funded_weeks as (

    select
        grants.provider_id,
        weeks.week_start_date,
        sum(grants.amount_per_day_gbp) as funding_per_day_gbp,
        sum(
            case
                when grants.funding_purpose = 'social_prescribing_contract'
                    then grants.amount_per_day_gbp
            end
        ) as social_prescribing_funding_per_day_gbp
    from grants
    inner join weeks
        on grants.planned_start_date <= weeks.period_end_date
        and grants.planned_end_date >= weeks.period_start_date
    group by grants.provider_id, weeks.week_start_date

),

joined as (

    select
        activities_active.activity_id,
        activities_active.week_start_date,
        weeks.is_complete_week,
        activities_active.provider_id,
        activities_active.neighbourhood_code,
        activities_active.category,
        activities_active.weekly_places,
        activities_active.is_capacity_known,
        coalesce(sessions_by_week.sessions_count, 0) as sessions_count,
        coalesce(sessions_by_week.sessions_full_count, 0) as sessions_full_count,
        coalesce(sessions_by_week.places_count, 0) as places_count,
        coalesce(sessions_by_week.attendees_count, 0) as attendees_count,
        coalesce(sessions_by_week.referred_attendees_count, 0) as referred_attendees_count,
        coalesce(onward_referrals_by_week.onward_referrals_count, 0) as onward_referrals_count,
        coalesce(onward_referrals_by_week.onward_referrals_unmet_count, 0)
            as onward_referrals_unmet_count,
        coalesce(funded_weeks.funding_per_day_gbp, 0) as funding_per_day_gbp,
        coalesce(funded_weeks.social_prescribing_funding_per_day_gbp, 0)
            as social_prescribing_funding_per_day_gbp
    from activities_active
    inner join weeks
        on activities_active.week_start_date = weeks.week_start_date
    left join sessions_by_week
        on activities_active.activity_id = sessions_by_week.activity_id
        and activities_active.week_start_date = sessions_by_week.week_start_date
    left join onward_referrals_by_week
        on activities_active.activity_id = onward_referrals_by_week.activity_id
        and activities_active.week_start_date = onward_referrals_by_week.week_start_date
    left join funded_weeks
        on activities_active.provider_id = funded_weeks.provider_id
        and activities_active.week_start_date = funded_weeks.week_start_date

),

flagged as (

    select
        *,
        100.0 * attendees_count / nullif(places_count, 0) as utilisation_pct,
        sessions_count > 0
        and (
            100.0 * attendees_count / nullif(places_count, 0)
                >= {{ var('over_capacity_utilisation_pct') }}
            or onward_referrals_unmet_count > 0
        ) as is_over_capacity
    from joined

),

-- the rebuilt weeks and the kept weeks their windows read
window_input as (

    select
        activity_id,
        week_start_date,
        sessions_count,
        is_over_capacity,
        onward_referrals_count
    from flagged
    union all
    select * from window_kept

),

trailing_weeks as (

    select
        activity_id,
        week_start_date,
        count(case when sessions_count > 0 then 1 end) over trailing_12 as weeks_with_sessions_12w,
        count(case when is_over_capacity then 1 end) over trailing_12 as weeks_over_capacity_12w,
        sum(onward_referrals_count) over trailing_12 as onward_referrals_12w_count
    from window_input
    -- an activity runs in consecutive weeks (int_activities_active_by_week), so the 11 rows
    -- before are the 11 weeks before
    window trailing_12 as (
        partition by activity_id
        order by week_start_date
        rows between 11 preceding and current row
    )

),

windowed as (

    select
        flagged.*,
        trailing_weeks.weeks_with_sessions_12w,
        trailing_weeks.weeks_over_capacity_12w,
        trailing_weeks.onward_referrals_12w_count
    from flagged
    inner join trailing_weeks
        on flagged.activity_id = trailing_weeks.activity_id
        and flagged.week_start_date = trailing_weeks.week_start_date

),

final as (

    select
        -- grain
        cast(activity_id as varchar) as activity_id,
        cast(week_start_date as date) as week_start_date,
        cast(is_complete_week as boolean) as is_complete_week,

        -- activity
        cast(provider_id as varchar) as provider_id,
        cast(neighbourhood_code as varchar) as neighbourhood_code,
        cast(category as varchar) as category,
        cast(weekly_places as double) as weekly_places,
        cast(is_capacity_known as boolean) as is_capacity_known,

        -- sessions and attendance
        cast(sessions_count as bigint) as sessions_count,
        cast(sessions_full_count as bigint) as sessions_full_count,
        cast(places_count as bigint) as places_count,
        cast(attendees_count as bigint) as attendees_count,
        cast(referred_attendees_count as bigint) as referred_attendees_count,
        cast(utilisation_pct as double) as utilisation_pct,

        -- referral pressure
        cast(onward_referrals_count as bigint) as onward_referrals_count,
        cast(onward_referrals_unmet_count as bigint) as onward_referrals_unmet_count,
        cast(
            100.0 * referred_attendees_count / nullif(places_count, 0) as double
        ) as referred_arrivals_per_100_places,

        -- money
        cast(funding_per_day_gbp as double) as provider_funding_per_day_gbp,
        cast(social_prescribing_funding_per_day_gbp as double)
            as provider_social_prescribing_funding_per_day_gbp,

        -- flags
        cast(is_over_capacity as boolean) as is_over_capacity,
        cast(weeks_with_sessions_12w as bigint) as weeks_with_sessions_12w,
        cast(weeks_over_capacity_12w as bigint) as weeks_over_capacity_12w,
        cast(
            weeks_with_sessions_12w > 0
            and 100.0 * weeks_over_capacity_12w / weeks_with_sessions_12w
                >= {{ var('persistently_over_capacity_weeks_pct') }}
            as boolean
        ) as is_persistently_over_capacity,
        cast(onward_referrals_12w_count as bigint) as onward_referrals_12w_count,
        cast(onward_referrals_12w_count > 0 and funding_per_day_gbp = 0 as boolean)
            as is_referred_without_funding

    from windowed

)

select * from final
