with

source as (

    select * from {{ source('raw', 'provider_funding') }}

),

renamed as (

    select
        -- ids
        grant_id,
        recipient_org_id as provider_id,
        funding_org_id,
        beneficiary_area_code,

        -- grant
        title as grant_title,
        recipient_org_name,
        funding_org_name,
        funding_purpose,

        -- money
        currency,
        amount_awarded_gbp,
        amount_awarded_gbp
            / ({{ dbt.datediff('planned_start_date', 'planned_end_date', 'day') }} + 1)
            as amount_per_day_gbp,

        -- dates
        award_date,
        planned_start_date,
        planned_end_date,
        {{ dbt.datediff('planned_start_date', 'planned_end_date', 'day') }} + 1 as planned_days,

        -- load metadata
        _loaded_at as loaded_at,
        _source_file as source_file

    from source

)

select * from renamed
