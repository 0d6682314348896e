{#-
    Referrals placed in the neighbourhood of the person's residence. Inner join: a referral
    whose LSOA is not in the ICB's geography lookup has no neighbourhood and is left out.
-#}
with

referrals as (

    select * from {{ ref('stg_social_prescribing__referrals') }}

),

lsoas as (

    select * from {{ ref('int_lsoas_mapped_to_neighbourhoods') }}

),

practices as (

    select * from {{ ref('stg_reference__practices') }}

),

joined as (

    select
        -- ids
        referrals.referral_id,
        referrals.person_id,
        referrals.lsoa_code,
        lsoas.neighbourhood_code,
        referrals.practice_code,
        practices.pcn_code,
        referrals.link_worker_id,

        -- referral
        referrals.is_declined,
        referrals.referral_source,
        referrals.primary_need,
        referrals.outcome,

        -- person
        referrals.age_band,
        referrals.sex,
        referrals.ethnic_group,
        lsoas.imd_decile,

        -- link worker contact
        referrals.contacts_count,
        referrals.has_first_contact,
        referrals.first_contact_date,
        referrals.days_referral_to_first_contact,
        referrals.discharge_date,

        -- wellbeing
        referrals.wellbeing_baseline_swemwbs,
        referrals.wellbeing_followup_swemwbs,
        referrals.wellbeing_change_swemwbs,

        -- dates
        referrals.referral_date,
        referrals.referral_month,

        -- load metadata
        referrals.loaded_at

    from referrals
    inner join lsoas
        on referrals.lsoa_code = lsoas.lsoa_code
    left join practices
        on referrals.practice_code = practices.practice_code

)

select * from joined
