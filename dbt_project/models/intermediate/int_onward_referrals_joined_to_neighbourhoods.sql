{#-
    Onward referrals placed in the neighbourhood where the person lives (through their
    referral), with the neighbourhood of the activity's venue alongside. Inner join on the
    residence: an onward referral whose referral has no neighbourhood is left out.
-#}
with

onward_referrals as (

    select * from {{ ref('stg_social_prescribing__onward_referrals') }}

),

referrals as (

    select * from {{ ref('int_referrals_joined_to_neighbourhoods') }}

),

activities as (

    select * from {{ ref('stg_community__activities') }}

),

lsoas as (

    select * from {{ ref('int_lsoas_mapped_to_neighbourhoods') }}

),

joined as (

    select
        -- ids
        onward_referrals.onward_referral_id,
        onward_referrals.referral_id,
        onward_referrals.activity_id,
        activities.provider_id,
        referrals.neighbourhood_code,
        referrals.pcn_code,
        venue_lsoas.neighbourhood_code as activity_neighbourhood_code,

        -- status
        onward_referrals.status,
        onward_referrals.is_refused_no_capacity,
        onward_referrals.is_waitlisted,
        onward_referrals.is_attended,
        onward_referrals.is_supported_first_visit,

        -- dates
        onward_referrals.onward_referral_date,
        onward_referrals.onward_referral_month,
        onward_referrals.first_attended_date,
        onward_referrals.days_onward_referral_to_first_attendance,

        -- load metadata
        onward_referrals.loaded_at

    from onward_referrals
    inner join referrals
        on onward_referrals.referral_id = referrals.referral_id
    left join activities
        on onward_referrals.activity_id = activities.activity_id
    left join lsoas as venue_lsoas
        on activities.venue_lsoa_code = venue_lsoas.lsoa_code

)

select * from joined
