{#- Referrals up to the as-of date, placed in the neighbourhood of the person's residence. -#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ incremental_delete_from_first_month('referral_month_start_date', 'referral_date', {'name': 'referrals', 'period': 'referral_date'}, snapshots=['geography', 'practices', 'deprivation'], stale_checks=[['lsoa_code, neighbourhood_code', 'int_lsoas_mapped_to_neighbourhoods', 'lsoa_code, neighbourhood_code']]) }}",
    )
}}
-- depends_on: {{ ref('int_lsoas_mapped_to_neighbourhoods') }}
with

referrals as (

    select * from {{ ref('int_referrals_joined_to_neighbourhoods') }}

),

dates as (

    select * from {{ ref('int_days') }}

),

final as (

    select
        -- ids
        cast(referrals.referral_id as varchar) as referral_id,
        cast(referrals.person_id as varchar) as person_id,
        cast(referrals.neighbourhood_code as varchar) as neighbourhood_code,
        cast(referrals.lsoa_code as varchar) as lsoa_code,
        cast(referrals.practice_code as varchar) as practice_code,
        cast(referrals.pcn_code as varchar) as pcn_code,
        cast(referrals.link_worker_id as varchar) as link_worker_id,

        -- dates
        cast(referrals.referral_date as date) as referral_date,
        cast(dates.week_start_date as date) as referral_week_start_date,
        cast(dates.month_start_date as date) as referral_month_start_date,
        cast(dates.quarter_start_date as date) as referral_quarter_start_date,

        -- referral
        cast(referrals.referral_source as varchar) as referral_source,
        cast(referrals.primary_need as varchar) as primary_need,
        cast(referrals.is_declined as boolean) as is_declined,
        cast(referrals.outcome as varchar) as outcome,

        -- person
        cast(referrals.age_band as varchar) as age_band,
        cast(referrals.sex as varchar) as sex,
        cast(referrals.ethnic_group as varchar) as ethnic_group,
        cast(referrals.imd_decile as integer) as imd_decile,
        cast(ceil(referrals.imd_decile / 2.0) as integer) as imd_quintile,
        cast(referrals.imd_decile <= 2 as boolean) as is_core20,

        -- link worker contact
        cast(referrals.contacts_count as bigint) as contacts_count,
        cast(referrals.has_first_contact as boolean) as has_first_contact,
        cast(referrals.first_contact_date as date) as first_contact_date,
        cast(referrals.days_referral_to_first_contact as bigint) as days_referral_to_first_contact,
        cast(coalesce(referrals.days_referral_to_first_contact <= 14, false) as boolean)
            as is_first_contact_within_14_days,
        cast(referrals.discharge_date as date) as discharge_date,

        -- wellbeing (SWEMWBS metric scores)
        cast(referrals.wellbeing_baseline_swemwbs as double) as wellbeing_baseline_swemwbs,
        cast(referrals.wellbeing_followup_swemwbs as double) as wellbeing_followup_swemwbs,
        cast(referrals.wellbeing_change_swemwbs as double) as wellbeing_change_swemwbs,

        -- load metadata
        cast(referrals.loaded_at as timestamp) as loaded_at

    from referrals
    inner join dates
        on referrals.referral_date = dates.date_day
    {% if is_incremental() -%}
    where {{ incremental_after_kept_months('referrals.referral_date', 'referral_month_start_date') }}
    {%- endif %}

)

select * from final
