{#-
    Each grant's money is placed once: the shares of a grant in int_funding_allocated_to_lsoas
    (inside and outside the ICB) sum to 1, the rows of a grant in
    marts.fct_funding_by_neighbourhood sum to its amount x its share inside the ICB, and
    fct_provider_funding's amount_inside_icb_gbp is that same sum (0 for a grant with no
    row). Returns the grants where any of these fails by more than a penny.
-#}
with

allocated as (

    select
        grant_id,
        sum(share_of_grant) as share_total
    from {{ ref('int_funding_allocated_to_lsoas') }}
    group by grant_id

),

by_neighbourhood as (

    select
        grant_id,
        sum(amount_gbp) as amount_gbp,
        min(amount_awarded_gbp * share_inside_icb) as amount_inside_icb_gbp,
        max(amount_awarded_gbp * share_inside_icb) as amount_inside_icb_gbp_max
    from {{ ref('fct_funding_by_neighbourhood') }}
    group by grant_id

),

grants as (

    select * from {{ ref('fct_provider_funding') }}

)

select
    grants.grant_id,
    allocated.share_total,
    by_neighbourhood.amount_gbp,
    by_neighbourhood.amount_inside_icb_gbp,
    grants.amount_inside_icb_gbp as provider_funding_amount_inside_icb_gbp
from grants
left join allocated
    on grants.grant_id = allocated.grant_id
left join by_neighbourhood
    on grants.grant_id = by_neighbourhood.grant_id
where abs(coalesce(allocated.share_total, 1) - 1) > 1e-9
    or abs(coalesce(by_neighbourhood.amount_gbp, 0) - grants.amount_inside_icb_gbp) > 0.01
    or abs(coalesce(by_neighbourhood.amount_inside_icb_gbp, 0) - grants.amount_inside_icb_gbp)
        > 0.01
    or abs(
        coalesce(by_neighbourhood.amount_inside_icb_gbp_max, 0)
        - coalesce(by_neighbourhood.amount_inside_icb_gbp, 0)
    ) > 0.01
    or grants.amount_inside_icb_gbp > grants.amount_awarded_gbp + 0.01
