with

source as (

    select * from {{ source('raw', 'activity_sessions') }}

),

renamed as (

    select
        -- ids
        activity_id,

        -- attendance
        places_available,
        attendees,
        referred_attendees,
        referred_attendees > 0 as is_referred_attendance,
        (places_available > 0 and attendees >= places_available) as is_full,

        -- dates
        session_date,
        cast({{ dbt.date_trunc('month', 'session_date') }} as date) as session_month,

        -- load metadata
        _loaded_at as loaded_at,
        _source_file as source_file

    from source

)

select * from renamed
