{#-
    Each grant's money in the neighbourhoods where it benefits: one row per grant and
    neighbourhood inside the ICB (int_funding_allocated_to_lsoas says how a grant is placed:
    by its beneficiary locations, else where its recipient runs activities, else where the
    recipient is based). The rows of one grant sum to its amount, or to the share of it that
    benefits inside the ICB. Formulas in the marts yml.
-#}
with

allocated as (

    select * from {{ ref('int_funding_allocated_to_neighbourhoods') }}

),

final as (

    select
        -- grain
        cast(grant_id as varchar) as grant_id,
        cast(neighbourhood_code as varchar) as neighbourhood_code,

        -- grant
        cast(recipient_org_id as varchar) as recipient_org_id,
        cast(recipient_org_name as varchar) as recipient_org_name,
        cast(funding_org_id as varchar) as funding_org_id,
        cast(funding_purpose as varchar) as funding_purpose,
        cast(amount_awarded_gbp as double) as amount_awarded_gbp,

        -- allocation
        cast(allocation_method as varchar) as allocation_method,
        cast(lsoas_count as bigint) as lsoas_count,
        cast(share_of_grant as double) as share_of_grant,
        cast(amount_gbp as double) as amount_gbp,
        cast(share_inside_icb as double) as share_inside_icb,
        cast(is_partly_outside_icb as boolean) as is_partly_outside_icb,

        -- the planned period the money is spread over
        cast(planned_start_date as date) as planned_start_date,
        cast(planned_end_date as date) as planned_end_date,
        cast(planned_days as bigint) as planned_days,
        cast(is_period_estimated as boolean) as is_period_estimated,
        cast(amount_per_day_gbp as double) as amount_per_day_gbp
    from allocated

)

select * from final
