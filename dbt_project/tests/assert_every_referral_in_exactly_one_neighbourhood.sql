{#-
    Every referral of an ICB resident made on or before the as-of date is in fct_referrals
    exactly once, with a neighbourhood that exists: the count equals staging's count of
    referrals whose LSOA is in the geography lookup. Returns a row when they differ.
-#}
with

facts as (

    select * from {{ ref('fct_referrals') }}

),

neighbourhoods as (

    select * from {{ ref('dim_neighbourhoods') }}

),

fact_total as (

    select
        count(*) as referrals_count,
        count(distinct facts.referral_id) as distinct_referrals_count
    from facts
    inner join neighbourhoods
        on facts.neighbourhood_code = neighbourhoods.neighbourhood_code

),

staging_total as (

    {{ icb_referrals_to_as_of_count() }}

),

final as (

    select
        fact_total.referrals_count as fact_referrals_count,
        fact_total.distinct_referrals_count as fact_distinct_referrals_count,
        staging_total.referrals_count as staging_referrals_count
    from fact_total
    cross join staging_total
    where fact_total.referrals_count != staging_total.referrals_count
        or fact_total.distinct_referrals_count != staging_total.referrals_count

)

select * from final
