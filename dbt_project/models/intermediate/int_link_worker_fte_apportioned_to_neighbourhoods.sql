{#-
    Link worker whole-time equivalents by neighbourhood and month. Link workers are employed
    by PCNs, which serve registered patients rather than places, so each PCN's FTE in a month
    is shared among neighbourhoods in proportion to the PCN's referrals (all months loaded, up
    to the as-of date) of residents of each neighbourhood:
    fte(neighbourhood, month) = sum over PCNs of fte(PCN, month) x referrals(PCN, neighbourhood)
    / referrals(PCN). A PCN without referrals shares out nothing.
-#}
with

capacity as (

    select * from {{ ref('stg_social_prescribing__link_worker_capacity') }}

),

referrals as (

    select * from {{ ref('int_referrals_joined_to_neighbourhoods') }}

),

months as (

    select * from {{ ref('int_months') }}

),

pcn_neighbourhood_referrals as (

    select
        pcn_code,
        neighbourhood_code,
        count(*) as referrals_count
    from referrals
    where pcn_code is not null
        and referral_date <= {{ spine_as_of_date() }}
    group by pcn_code, neighbourhood_code

),

shares as (

    select
        pcn_code,
        neighbourhood_code,
        referrals_count * 1.0 / sum(referrals_count) over (partition by pcn_code) as pcn_share
    from pcn_neighbourhood_referrals

),

final as (

    select
        shares.neighbourhood_code,
        months.month_start_date,
        sum(capacity.link_worker_fte * shares.pcn_share) as link_worker_fte,
        sum(capacity.open_caseload * shares.pcn_share) as open_caseload
    from capacity
    inner join months
        on capacity.month_start_date = months.month_start_date
    inner join shares
        on capacity.pcn_code = shares.pcn_code
    group by shares.neighbourhood_code, months.month_start_date

)

select * from final
