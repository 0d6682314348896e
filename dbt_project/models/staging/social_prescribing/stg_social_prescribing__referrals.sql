with

source as (

    select * from {{ source('raw', 'referrals') }}

),

renamed as (

    select
        -- ids
        referral_id,
        person_id,
        practice_code,
        lsoa_code,
        link_worker_id,

        -- referral
        snomed_code,
        snomed_code = '871711000000103' as is_declined,
        referral_source,
        primary_need,
        referral_reason,

        -- person
        age_band,
        sex,
        ethnic_group,

        -- link worker contact and outcome
        contacts_count,
        first_contact_date is not null as has_first_contact,
        outcome,

        -- wellbeing (SWEMWBS metric scores)
        wellbeing_baseline_swemwbs,
        wellbeing_followup_swemwbs,
        wellbeing_followup_swemwbs - wellbeing_baseline_swemwbs as wellbeing_change_swemwbs,

        -- dates
        referral_date,
        cast({{ dbt.date_trunc('month', 'referral_date') }} as date) as referral_month,
        first_contact_date,
        {{ dbt.datediff('referral_date', 'first_contact_date', 'day') }}
            as days_referral_to_first_contact,
        discharge_date,

        -- load metadata
        _loaded_at as loaded_at,
        _source_file as source_file

    from source

)

select * from renamed
