{#-
    Each grant's share in each neighbourhood inside the ICB where it benefits, from its
    placement by LSOA (int_funding_allocated_to_lsoas), with the planned period its money is
    spread over. Grain: grant_id, neighbourhood_code. Published, typed and documented, as
    marts.fct_funding_by_neighbourhood; the money marts read the placement from here.
-#}
with

allocated as (

    select * from {{ ref('int_funding_allocated_to_lsoas') }}

),

funding as (

    select * from {{ ref('stg_community__provider_funding') }}

),

grant_totals as (

    select
        grant_id,
        sum(case when is_in_icb then share_of_grant else 0 end) as share_inside_icb
    from allocated
    group by grant_id

),

by_neighbourhood as (

    select
        grant_id,
        neighbourhood_code,
        min(allocation_method) as allocation_method,
        count(*) as lsoas_count,
        sum(share_of_grant) as share_of_grant,
        sum(amount_gbp) as amount_gbp
    from allocated
    where is_in_icb
    group by grant_id, neighbourhood_code

),

final as (

    select
        -- grain
        by_neighbourhood.grant_id,
        by_neighbourhood.neighbourhood_code,

        -- grant
        funding.provider_id as recipient_org_id,
        funding.recipient_org_name,
        funding.funding_org_id,
        funding.funding_purpose,
        funding.amount_awarded_gbp,

        -- allocation
        by_neighbourhood.allocation_method,
        by_neighbourhood.lsoas_count,
        by_neighbourhood.share_of_grant,
        by_neighbourhood.amount_gbp,
        grant_totals.share_inside_icb,
        grant_totals.share_inside_icb < 1 - 1e-9 as is_partly_outside_icb,

        -- the planned period the money is spread over
        funding.planned_start_date,
        funding.planned_end_date,
        funding.planned_days,
        funding.is_period_estimated,
        by_neighbourhood.amount_gbp / funding.planned_days as amount_per_day_gbp

    from by_neighbourhood
    inner join funding
        on by_neighbourhood.grant_id = funding.grant_id
    inner join grant_totals
        on by_neighbourhood.grant_id = grant_totals.grant_id

)

select * from final
