{#-
    Onward referrals up to the as-of date, placed in the neighbourhood of the person's
    residence (through their referral), with the activity's venue neighbourhood alongside.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ incremental_delete_from_first_month('onward_referral_month_start_date', 'onward_referral_date', {'name': 'onward_referrals', 'period': 'onward_referral_date'}, upstream=[{'name': 'referrals', 'period': 'referral_date'}], snapshots=['geography', 'practices', 'providers', 'activities'], stale_checks=[['neighbourhood_code', 'int_lsoas_mapped_to_neighbourhoods', 'neighbourhood_code'], ['activity_neighbourhood_code', 'int_lsoas_mapped_to_neighbourhoods', 'neighbourhood_code']]) }}",
    )
}}
-- depends_on: {{ ref('int_lsoas_mapped_to_neighbourhoods') }}
with

onward_referrals as (

    select * from {{ ref('int_onward_referrals_joined_to_neighbourhoods') }}

),

dates as (

    select * from {{ ref('int_days') }}

),

final as (

    select
        -- ids
        cast(onward_referrals.onward_referral_id as varchar) as onward_referral_id,
        cast(onward_referrals.referral_id as varchar) as referral_id,
        cast(onward_referrals.activity_id as varchar) as activity_id,
        cast(onward_referrals.provider_id as varchar) as provider_id,
        cast(onward_referrals.neighbourhood_code as varchar) as neighbourhood_code,
        cast(onward_referrals.activity_neighbourhood_code as varchar)
            as activity_neighbourhood_code,
        cast(onward_referrals.pcn_code as varchar) as pcn_code,

        -- dates
        cast(onward_referrals.onward_referral_date as date) as onward_referral_date,
        cast(dates.week_start_date as date) as onward_referral_week_start_date,
        cast(dates.month_start_date as date) as onward_referral_month_start_date,
        cast(dates.quarter_start_date as date) as onward_referral_quarter_start_date,
        cast(onward_referrals.first_attended_date as date) as first_attended_date,
        cast(onward_referrals.days_onward_referral_to_first_attendance as bigint)
            as days_onward_referral_to_first_attendance,

        -- status
        cast(onward_referrals.status as varchar) as status,
        cast(onward_referrals.is_refused_no_capacity as boolean) as is_refused_no_capacity,
        cast(onward_referrals.is_waitlisted as boolean) as is_waitlisted,
        cast(onward_referrals.is_refused_no_capacity or onward_referrals.is_waitlisted as boolean)
            as is_unmet_for_capacity,
        cast(onward_referrals.is_attended as boolean) as is_attended,
        cast(coalesce(onward_referrals.is_supported_first_visit, false) as boolean)
            as is_supported_first_visit,

        -- load metadata
        cast(onward_referrals.loaded_at as timestamp) as loaded_at

    from onward_referrals
    inner join dates
        on onward_referrals.onward_referral_date = dates.date_day
    {% if is_incremental() -%}
    where {{ incremental_after_kept_months(
        'onward_referrals.onward_referral_date', 'onward_referral_month_start_date'
    ) }}
    {%- endif %}

)

select * from final
