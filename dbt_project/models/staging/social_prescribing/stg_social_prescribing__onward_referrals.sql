with

source as (

    select * from {{ source('raw', 'onward_referrals') }}

),

renamed as (

    select
        -- ids
        onward_referral_id,
        referral_id,
        activity_id,

        -- status
        status,
        status = 'refused_no_capacity' as is_refused_no_capacity,
        status = 'waitlisted' as is_waitlisted,
        (status = 'attended' or first_attended_date is not null) as is_attended,
        supported_first_visit as is_supported_first_visit,

        -- dates
        onward_referral_date,
        cast({{ dbt.date_trunc('month', 'onward_referral_date') }} as date)
            as onward_referral_month,
        first_attended_date,
        {{ dbt.datediff('onward_referral_date', 'first_attended_date', 'day') }}
            as days_onward_referral_to_first_attendance,

        -- load metadata
        _loaded_at as loaded_at,
        _source_file as source_file

    from source

)

select * from renamed
