{#-
    Every referral whose LSOA is in the geography lookup, made on or before the as-of date,
    is counted exactly once in fct_neighbourhood_need_capacity_monthly: the sum of
    referrals_count over the mart equals the count in staging. Returns a row when they differ.
-#}
with

monthly as (

    select * from {{ ref('fct_neighbourhood_need_capacity_monthly') }}

),

mart_total as (

    select coalesce(sum(referrals_count), 0) as referrals_count
    from monthly

),

staging_total as (

    {{ icb_referrals_to_as_of_count() }}

),

final as (

    select
        mart_total.referrals_count as mart_referrals_count,
        staging_total.referrals_count as staging_referrals_count
    from mart_total
    cross join staging_total
    where mart_total.referrals_count != staging_total.referrals_count

)

select * from final
