{#-
    Sums over neighbourhoods and periods equal the ICB totals in the facts: referrals and
    onward referrals in the monthly and weekly marts equal the rows of fct_referrals and
    fct_onward_referrals; funding summed by week equals funding summed by month (both spread
    the same grants over the same days). Returns a row per measure that differs.
-#}
with

monthly as (

    select * from {{ ref('fct_neighbourhood_need_capacity_monthly') }}

),

weekly as (

    select * from {{ ref('fct_neighbourhood_need_capacity_weekly') }}

),

referrals as (

    select * from {{ ref('fct_referrals') }}

),

onward_referrals as (

    select * from {{ ref('fct_onward_referrals') }}

),

totals as (

    select 'referrals monthly' as measure,
        (select sum(referrals_count) from monthly) as mart_total,
        (select count(*) from referrals) as icb_total
    union all
    select 'referrals weekly',
        (select sum(referrals_count) from weekly),
        (select count(*) from referrals)
    union all
    select 'onward referrals monthly',
        (select sum(onward_referrals_count) from monthly),
        (select count(*) from onward_referrals)
    union all
    select 'onward referrals weekly',
        (select sum(onward_referrals_count) from weekly),
        (select count(*) from onward_referrals)
    union all
    select 'funding weekly against monthly',
        (select sum(funding_gbp) from weekly),
        (select sum(funding_gbp) from monthly)

),

final as (

    select * from totals
    -- relative: sums of tens of millions of pounds in doubles differ in the last digits
    -- with the order rows are added in (1e-6 absolute failed at region scale on £43.5m)
    where abs(coalesce(mart_total, 0) - coalesce(icb_total, 0))
        > 1e-9 * greatest(1, abs(coalesce(icb_total, 0)))

)

select * from final
