with

source as (

    select * from {{ source('raw', 'activities') }}

),

renamed as (

    select
        -- ids
        activity_id,
        provider_id,
        venue_lsoa_code,

        -- activity
        activity_name,
        category,

        -- capacity
        sessions_per_week,
        places_per_session,
        sessions_per_week * places_per_session as weekly_places,

        -- cost
        cost_to_attend_gbp,
        cost_to_attend_gbp = 0 as is_free,

        -- dates
        start_date,
        end_date,
        end_date is null as is_open_ended,

        -- load metadata
        _loaded_at as loaded_at,
        _source_file as source_file

    from source

)

select * from renamed
