with

activities as (

    select * from {{ ref('stg_community__activities') }}

),

lsoas as (

    select * from {{ ref('int_lsoas_mapped_to_neighbourhoods') }}

),


final as (

    select
        -- ids
        cast(activities.activity_id as varchar) as activity_id,
        cast(activities.provider_id as varchar) as provider_id,
        cast(activities.directory_id as varchar) as directory_id,
        cast(activities.venue_lsoa_code as varchar) as venue_lsoa_code,
        cast(activities.venue_lad_code as varchar) as venue_lad_code,
        cast(activities.venue_placement as varchar) as venue_placement,
        cast(lsoas.neighbourhood_code as varchar) as neighbourhood_code,

        -- activity
        cast(activities.activity_name as varchar) as activity_name,
        cast(activities.category as varchar) as category,
        cast(activities.category_basis as varchar) as category_basis,

        -- capacity
        cast(activities.sessions_per_week as double) as sessions_per_week,
        cast(activities.places_per_session as double) as places_per_session,
        cast(activities.weekly_places as double) as weekly_places,
        cast(activities.is_capacity_known as boolean) as is_capacity_known,

        -- cost
        cast(activities.cost_to_attend_gbp as double) as cost_to_attend_gbp,
        cast(activities.is_free as boolean) as is_free,

        -- dates
        cast(activities.start_date as date) as start_date,
        cast(activities.end_date as date) as end_date,
        cast(activities.is_open_ended as boolean) as is_open_ended,
        cast(
            (activities.start_date is null or activities.start_date <= {{ spine_as_of_date() }})
            and (activities.end_date is null or activities.end_date >= {{ spine_as_of_date() }})
            as boolean
        ) as is_active_at_as_of

    from activities
    left join lsoas
        on activities.venue_lsoa_code = lsoas.lsoa_code

)

select * from final
