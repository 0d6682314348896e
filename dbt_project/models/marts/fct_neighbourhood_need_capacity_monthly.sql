with

neighbourhoods as (

    select * from {{ ref('dim_neighbourhoods') }}

),

months as (

    select * from {{ ref('int_months') }}

),

referrals as (

    select * from {{ ref('int_referrals_joined_to_neighbourhoods') }}

),

onward_referrals as (

    select * from {{ ref('int_onward_referrals_joined_to_neighbourhoods') }}

),

activities_active as (

    select * from {{ ref('int_activities_active_by_month') }}

),

funding_spread as (

    select * from {{ ref('int_funding_spread_over_months') }}

),

-- every neighbourhood in every month, so that a month with nothing shows as zero
neighbourhood_months as (

    select
        neighbourhoods.neighbourhood_code,
        months.month_start_date,
        months.is_complete_month,
        neighbourhoods.population_total,
        neighbourhoods.imd_score_pop_weighted
    from neighbourhoods
    cross join months

),

referrals_by_month as (

    select
        referrals.neighbourhood_code,
        months.month_start_date,
        count(*) as referrals_count
    from referrals
    inner join months
        on referrals.referral_month = months.month_start_date
        and referrals.referral_date <= months.period_end_date
    group by referrals.neighbourhood_code, months.month_start_date

),

onward_referrals_by_month as (

    select
        onward_referrals.neighbourhood_code,
        months.month_start_date,
        count(*) as onward_referrals_count,
        sum(case when onward_referrals.is_refused_no_capacity then 1 else 0 end)
            as onward_referrals_refused_no_capacity_count
    from onward_referrals
    inner join months
        on onward_referrals.onward_referral_month = months.month_start_date
        and onward_referrals.onward_referral_date <= months.period_end_date
    group by onward_referrals.neighbourhood_code, months.month_start_date

),

activities_by_month as (

    select
        neighbourhood_code,
        month_start_date,
        count(*) as activities_active_count,
        sum(weekly_places) as weekly_places
    from activities_active
    group by neighbourhood_code, month_start_date

),

funding_by_month as (

    select
        neighbourhood_code,
        month_start_date,
        sum(funding_gbp) as funding_gbp
    from funding_spread
    group by neighbourhood_code, month_start_date

),

joined as (

    select
        neighbourhood_months.neighbourhood_code,
        neighbourhood_months.month_start_date,
        neighbourhood_months.is_complete_month,
        neighbourhood_months.population_total,
        coalesce(referrals_by_month.referrals_count, 0) as referrals_count,
        coalesce(onward_referrals_by_month.onward_referrals_count, 0) as onward_referrals_count,
        coalesce(onward_referrals_by_month.onward_referrals_refused_no_capacity_count, 0)
            as onward_referrals_refused_no_capacity_count,
        coalesce(activities_by_month.activities_active_count, 0) as activities_active_count,
        coalesce(activities_by_month.weekly_places, 0) as weekly_places,
        coalesce(funding_by_month.funding_gbp, 0) as funding_gbp,
        neighbourhood_months.imd_score_pop_weighted
    from neighbourhood_months
    left join referrals_by_month
        on neighbourhood_months.neighbourhood_code = referrals_by_month.neighbourhood_code
        and neighbourhood_months.month_start_date = referrals_by_month.month_start_date
    left join onward_referrals_by_month
        on neighbourhood_months.neighbourhood_code = onward_referrals_by_month.neighbourhood_code
        and neighbourhood_months.month_start_date = onward_referrals_by_month.month_start_date
    left join activities_by_month
        on neighbourhood_months.neighbourhood_code = activities_by_month.neighbourhood_code
        and neighbourhood_months.month_start_date = activities_by_month.month_start_date
    left join funding_by_month
        on neighbourhood_months.neighbourhood_code = funding_by_month.neighbourhood_code
        and neighbourhood_months.month_start_date = funding_by_month.month_start_date

),

final as (

    select
        -- grain
        cast(neighbourhood_code as varchar) as neighbourhood_code,
        cast(month_start_date as date) as month_start_date,
        cast(is_complete_month as boolean) as is_complete_month,

        -- population
        cast(population_total as bigint) as population_total,

        -- need
        cast(referrals_count as bigint) as referrals_count,
        cast(1000.0 * referrals_count / nullif(population_total, 0) as double)
            as referrals_per_1000,
        cast(onward_referrals_count as bigint) as onward_referrals_count,
        cast(onward_referrals_refused_no_capacity_count as bigint)
            as onward_referrals_refused_no_capacity_count,

        -- community capacity
        cast(activities_active_count as bigint) as activities_active_count,
        cast(weekly_places as double) as weekly_places,
        cast(1000.0 * weekly_places / nullif(population_total, 0) as double)
            as weekly_places_per_1000,
        cast(funding_gbp as double) as funding_gbp,
        cast(funding_gbp / nullif(population_total, 0) as double) as funding_per_head_gbp,

        -- deprivation
        cast(imd_score_pop_weighted as double) as imd_score_pop_weighted

    from joined

)

select * from final
