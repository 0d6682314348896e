{#- Method: see doc block neighbourhood_gap_method in _marts__docs.md. -#}
with

monthly as (

    select * from {{ ref('fct_neighbourhood_need_capacity_monthly') }}

),

neighbourhoods as (

    select * from {{ ref('dim_neighbourhoods') }}

),

complete_months as (

    select distinct month_start_date
    from monthly
    where is_complete_month

),

latest_12_complete_months as (

    select
        month_start_date,
        row_number() over (order by month_start_date desc) as months_back
    from complete_months

),

window_months as (

    select * from latest_12_complete_months
    where months_back <= 12

),

window_totals as (

    select
        monthly.neighbourhood_code,
        min(monthly.month_start_date) as period_start_date,
        max(monthly.month_start_date) as latest_month_start_date,
        count(*) as months_count,
        sum(monthly.referrals_count) as referrals_12m_count,
        sum(monthly.funding_gbp) as funding_12m_gbp
    from monthly
    inner join window_months
        on monthly.month_start_date = window_months.month_start_date
    group by monthly.neighbourhood_code

),

latest_month as (

    select
        monthly.neighbourhood_code,
        monthly.weekly_places,
        monthly.weekly_places_per_1000
    from monthly
    inner join window_months
        on monthly.month_start_date = window_months.month_start_date
        and window_months.months_back = 1

),

rates as (

    select
        neighbourhoods.neighbourhood_code,
        neighbourhoods.neighbourhood_name,
        neighbourhoods.neighbourhood_level,
        neighbourhoods.lad_code,
        neighbourhoods.lad_name,
        window_totals.period_start_date,
        cast({{ dbt.last_day('window_totals.latest_month_start_date', 'month') }} as date)
            as period_end_date,
        window_totals.months_count,
        neighbourhoods.population_total,
        neighbourhoods.imd_score_pop_weighted,
        neighbourhoods.is_core20,
        window_totals.referrals_12m_count,
        1000.0 * window_totals.referrals_12m_count
            / nullif(neighbourhoods.population_total, 0) as referrals_per_1000_12m,
        latest_month.weekly_places,
        latest_month.weekly_places_per_1000,
        window_totals.funding_12m_gbp,
        window_totals.funding_12m_gbp
            / nullif(neighbourhoods.population_total, 0) as funding_per_head_12m_gbp
    from neighbourhoods
    inner join window_totals
        on neighbourhoods.neighbourhood_code = window_totals.neighbourhood_code
    inner join latest_month
        on neighbourhoods.neighbourhood_code = latest_month.neighbourhood_code

),

-- z = (value - mean) / population sd across neighbourhoods; 0 when all are equal
z_scores as (

    select
        *,
        {{ z_score('referrals_per_1000_12m') }} as need_z,
        {{ z_score('weekly_places_per_1000') }} as weekly_places_per_1000_z,
        {{ z_score('funding_per_head_12m_gbp') }} as funding_per_head_12m_z
    from rates

),

scored as (

    select
        *,
        (weekly_places_per_1000_z + funding_per_head_12m_z) / 2.0 as capacity_z,
        need_z - (weekly_places_per_1000_z + funding_per_head_12m_z) / 2.0 as gap_score
    from z_scores

),

final as (

    select
        -- ids
        cast(neighbourhood_code as varchar) as neighbourhood_code,
        cast(lad_code as varchar) as lad_code,

        -- names
        cast(neighbourhood_name as varchar) as neighbourhood_name,
        cast(neighbourhood_level as varchar) as neighbourhood_level,
        cast(lad_name as varchar) as lad_name,

        -- window
        cast(period_start_date as date) as period_start_date,
        cast(period_end_date as date) as period_end_date,
        cast(months_count as bigint) as months_count,

        -- context
        cast(population_total as bigint) as population_total,
        cast(imd_score_pop_weighted as double) as imd_score_pop_weighted,
        cast(is_core20 as boolean) as is_core20,

        -- need
        cast(referrals_12m_count as bigint) as referrals_12m_count,
        cast(referrals_per_1000_12m as double) as referrals_per_1000_12m,

        -- capacity
        cast(weekly_places as double) as weekly_places,
        cast(weekly_places_per_1000 as double) as weekly_places_per_1000,
        cast(funding_12m_gbp as double) as funding_12m_gbp,
        cast(funding_per_head_12m_gbp as double) as funding_per_head_12m_gbp,

        -- scores
        cast(need_z as double) as need_z,
        cast(weekly_places_per_1000_z as double) as weekly_places_per_1000_z,
        cast(funding_per_head_12m_z as double) as funding_per_head_12m_z,
        cast(capacity_z as double) as capacity_z,
        cast(gap_score as double) as gap_score,
        cast(
            row_number() over (order by gap_score desc nulls last, neighbourhood_code)
            as bigint
        ) as gap_rank

    from scored

)

select * from final
