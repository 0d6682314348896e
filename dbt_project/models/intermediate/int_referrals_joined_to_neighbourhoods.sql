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

joined as (

    select
        -- ids
        referrals.referral_id,
        referrals.person_id,
        referrals.lsoa_code,
        lsoas.neighbourhood_code,

        -- referral
        referrals.is_declined,
        referrals.referral_source,
        referrals.primary_need,
        referrals.outcome,

        -- dates
        referrals.referral_date,
        referrals.referral_month

    from referrals
    inner join lsoas
        on referrals.lsoa_code = lsoas.lsoa_code

)

select * from joined
