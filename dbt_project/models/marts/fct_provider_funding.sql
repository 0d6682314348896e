{#-
    One row per grant, with the neighbourhood where the recipient is based and where the
    grant stands on the as-of date (current, ending within 3, 6 or 12 months).
-#}
with

funding as (

    select * from {{ ref('stg_community__provider_funding') }}

),

providers as (

    select * from {{ ref('dim_providers') }}

),


final as (

    select
        -- ids
        cast(funding.grant_id as varchar) as grant_id,
        cast(funding.provider_id as varchar) as provider_id,
        cast(providers.neighbourhood_code as varchar) as neighbourhood_code,
        cast(funding.funding_org_id as varchar) as funding_org_id,

        -- grant
        cast(funding.grant_title as varchar) as grant_title,
        cast(funding.funding_org_name as varchar) as funding_org_name,
        cast(funding.funding_purpose as varchar) as funding_purpose,

        -- money
        cast(funding.amount_awarded_gbp as double) as amount_awarded_gbp,
        cast(funding.amount_per_day_gbp as double) as amount_per_day_gbp,

        -- dates
        cast(funding.award_date as date) as award_date,
        cast(funding.planned_start_date as date) as planned_start_date,
        cast(funding.planned_end_date as date) as planned_end_date,
        cast(funding.planned_days as bigint) as planned_days,

        -- standing on the as-of date
        cast(
            funding.planned_start_date <= {{ spine_as_of_date() }}
            and funding.planned_end_date >= {{ spine_as_of_date() }}
            as boolean
        ) as is_current,
        {%- for months_ahead in [3, 6, 12] %}
        cast(
            funding.planned_end_date >= {{ spine_as_of_date() }}
            and funding.planned_end_date
                <= {{ dbt.dateadd('month', months_ahead, spine_as_of_date()) }}
            as boolean
        ) as is_ending_within_{{ months_ahead }}_months,
        {%- endfor %}
        cast({{ spine_as_of_date() }} as date) as as_of_date

    from funding
    left join providers
        on funding.provider_id = providers.provider_id

)

select * from final
