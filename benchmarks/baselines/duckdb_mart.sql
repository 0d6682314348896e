-- The core monthly need-versus-capacity mart as one hand-written DuckDB query over the raw
-- tables the ingest loads (raw.*): no dbt, no staging views, no tests. It is the floor the
-- pipeline is measured against (what the engine alone costs). Same rules as
-- marts.fct_neighbourhood_need_capacity_monthly at neighbourhood_level msoa with as_of_date
-- unset (the latest referral date loaded); only the columns listed in
-- benchmarks/baselines/pandas_mart.py COLUMNS.
with

bounds as (
    select
        cast(date_trunc('month', min(referral_date)) as date) as first_month,
        max(referral_date) as as_of_date
    from raw.referrals
),

months as (
    select
        cast(month_value as date) as month_start_date,
        least(cast(month_value + interval 1 month - interval 1 day as date), bounds.as_of_date)
            as period_end_date
    from bounds
    cross join range(
        cast(bounds.first_month as timestamp),
        cast(bounds.as_of_date as timestamp) + interval 1 day,
        interval 1 month
    ) as month_range (month_value)
),

lsoas as (
    select
        geography.lsoa_code,
        geography.msoa_code as neighbourhood_code,
        coalesce(population.population_total, 0) as population_total,
        deprivation.imd_score
    from raw.geography as geography
    left join raw.population as population
        on geography.lsoa_code = population.lsoa_code
    left join raw.deprivation as deprivation
        on geography.lsoa_code = deprivation.lsoa_code
),

neighbourhoods as (
    select
        neighbourhood_code,
        sum(population_total) as population_total,
        sum(population_total * imd_score)
            / nullif(sum(population_total) filter (where imd_score is not null), 0)
            as imd_score_pop_weighted
    from lsoas
    group by neighbourhood_code
),

referrals as (
    select
        referrals.referral_id,
        lsoas.neighbourhood_code,
        referrals.referral_date
    from raw.referrals as referrals
    inner join lsoas
        on referrals.lsoa_code = lsoas.lsoa_code
),

referrals_by_month as (
    select
        neighbourhood_code,
        cast(date_trunc('month', referral_date) as date) as month_start_date,
        count(*) as referrals_count
    from referrals
    group by all
),

onward_by_month as (
    select
        referrals.neighbourhood_code,
        cast(date_trunc('month', onward.onward_referral_date) as date) as month_start_date,
        count(*) as onward_referrals_count
    from raw.onward_referrals as onward
    inner join referrals
        on onward.referral_id = referrals.referral_id
    where onward.onward_referral_date
        between (select first_month from bounds) and (select as_of_date from bounds)
    group by all
),

activities_by_month as (
    select
        lsoas.neighbourhood_code,
        months.month_start_date,
        count(*) as activities_active_count,
        sum(activities.sessions_per_week * activities.places_per_session) as weekly_places
    from raw.activities as activities
    inner join lsoas
        on activities.venue_lsoa_code = lsoas.lsoa_code
    inner join months
        on (activities.start_date is null or activities.start_date <= months.period_end_date)
        and (activities.end_date is null or activities.end_date >= months.month_start_date)
    group by all
),

-- a grant's planned period as the warehouse resolves it: the published dates, else from the
-- start (or the award date) the published duration or 12 months
grants as (
    select
        recipient_org_id,
        amount_awarded_gbp,
        coalesce(planned_start_date, award_date) as planned_start_date,
        coalesce(
            planned_end_date,
            cast(
                coalesce(planned_start_date, award_date)
                + to_months(cast(coalesce(planned_duration_months, 12) as integer))
                - interval 1 day
                as date
            )
        ) as planned_end_date
    from raw.provider_funding
),

funding_by_month as (
    select
        lsoas.neighbourhood_code,
        months.month_start_date,
        sum(
            funding.amount_awarded_gbp
            / (datediff('day', funding.planned_start_date, funding.planned_end_date) + 1)
            * (
                datediff(
                    'day',
                    greatest(funding.planned_start_date, months.month_start_date),
                    least(funding.planned_end_date, months.period_end_date)
                ) + 1
            )
        ) as funding_gbp
    from grants as funding
    inner join raw.providers as providers
        on funding.recipient_org_id = providers.provider_id
    inner join lsoas
        on providers.base_lsoa_code = lsoas.lsoa_code
    inner join months
        on funding.planned_start_date <= months.period_end_date
        and funding.planned_end_date >= months.month_start_date
    group by all
)

select
    neighbourhoods.neighbourhood_code,
    months.month_start_date,
    neighbourhoods.population_total,
    neighbourhoods.imd_score_pop_weighted,
    coalesce(referrals_by_month.referrals_count, 0) as referrals_count,
    1000.0 * coalesce(referrals_by_month.referrals_count, 0)
        / nullif(neighbourhoods.population_total, 0) as referrals_per_1000,
    coalesce(onward_by_month.onward_referrals_count, 0) as onward_referrals_count,
    coalesce(activities_by_month.activities_active_count, 0) as activities_active_count,
    coalesce(activities_by_month.weekly_places, 0) as weekly_places,
    1000.0 * coalesce(activities_by_month.weekly_places, 0)
        / nullif(neighbourhoods.population_total, 0) as weekly_places_per_1000,
    coalesce(funding_by_month.funding_gbp, 0) as funding_gbp,
    coalesce(funding_by_month.funding_gbp, 0)
        / nullif(neighbourhoods.population_total, 0) as funding_per_head_gbp
from neighbourhoods
cross join months
left join referrals_by_month
    on neighbourhoods.neighbourhood_code = referrals_by_month.neighbourhood_code
    and months.month_start_date = referrals_by_month.month_start_date
left join onward_by_month
    on neighbourhoods.neighbourhood_code = onward_by_month.neighbourhood_code
    and months.month_start_date = onward_by_month.month_start_date
left join activities_by_month
    on neighbourhoods.neighbourhood_code = activities_by_month.neighbourhood_code
    and months.month_start_date = activities_by_month.month_start_date
left join funding_by_month
    on neighbourhoods.neighbourhood_code = funding_by_month.neighbourhood_code
    and months.month_start_date = funding_by_month.month_start_date
order by neighbourhoods.neighbourhood_code, months.month_start_date
