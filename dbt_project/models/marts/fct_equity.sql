{#-
    Referral rates, conversion and wellbeing change by group of people, over the latest 12
    complete months: national IMD quintile of residence, Core20 or not, age band, sex and
    ethnic group. One row per dimension and group.
-#}
{%- set dimensions = {
    'imd_quintile': "cast(referrals.imd_quintile as varchar)",
    'core20': "case when referrals.is_core20 then 'core20' else 'rest' end",
    'age_band': 'referrals.age_band',
    'sex': 'referrals.sex',
    'ethnic_group': 'referrals.ethnic_group',
} -%}

with

referrals as (

    select * from {{ ref('fct_referrals') }}

),

onward_referrals as (

    select * from {{ ref('fct_onward_referrals') }}

),

lsoas as (

    select * from {{ ref('dim_lsoas') }}

),

months as (

    select * from {{ ref('int_months') }}

),

window_months as (

    select
        month_start_date,
        row_number() over (order by month_start_date desc) as months_back
    from months
    where is_complete_month

),

window_bounds as (

    select
        min(month_start_date) as period_start_date,
        max(month_start_date) as latest_month_start_date,
        count(*) as months_count
    from window_months
    where months_back <= 12

),

onward_by_referral as (

    select
        referral_id,
        count(*) as onward_referrals_count,
        count(case when is_attended then 1 end) as onward_referrals_attended_count
    from onward_referrals
    group by referral_id

),

in_window as (

    select
        referrals.*,
        coalesce(onward_by_referral.onward_referrals_count, 0) as onward_referrals_count,
        coalesce(onward_by_referral.onward_referrals_attended_count, 0)
            as onward_referrals_attended_count
    from referrals
    cross join window_bounds
    left join onward_by_referral
        on referrals.referral_id = onward_by_referral.referral_id
    where referrals.referral_month_start_date
        between window_bounds.period_start_date and window_bounds.latest_month_start_date

),

population_groups as (

    select * from {{ ref('stg_reference__population_groups') }}

),

-- residents by group: deprivation groups from the LSOAs' populations; age band, sex and
-- ethnic group from raw.population_groups (none when that optional file was not loaded)
populations as (

    select
        'imd_quintile' as equity_dimension,
        coalesce(cast(imd_quintile as varchar), 'unknown') as group_value,
        sum(population_total) as population_total
    from lsoas
    group by imd_quintile
    union all
    select
        'core20',
        case when is_core20 then 'core20' else 'rest' end,
        sum(population_total)
    from lsoas
    group by 2
    union all
    select
        population_groups.characteristic,
        population_groups.group_value,
        sum(population_groups.population)
    from population_groups
    inner join lsoas
        on population_groups.lsoa_code = lsoas.lsoa_code
    where population_groups.characteristic in ('age_band', 'sex', 'ethnic_group')
    group by 1, 2

),

grouped as (

    {%- for dimension, expression in dimensions.items() %}
    select
        '{{ dimension }}' as equity_dimension,
        coalesce({{ expression }}, 'unknown') as group_value,
        count(*) as referrals_count,
        sum(onward_referrals_count) as onward_referrals_count,
        sum(onward_referrals_attended_count) as onward_referrals_attended_count,
        count(case when is_first_contact_within_14_days then 1 end)
            as first_contact_within_14_days_count,
        count(wellbeing_change_swemwbs) as wellbeing_change_recorded_count,
        avg(wellbeing_change_swemwbs) as wellbeing_change_mean_swemwbs
    from in_window as referrals
    group by 1, 2
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

-- groups with residents but no referrals in the window are kept, with 0 referrals
group_totals as (

    select
        coalesce(grouped.equity_dimension, populations.equity_dimension) as equity_dimension,
        coalesce(grouped.group_value, populations.group_value) as group_value,
        coalesce(grouped.referrals_count, 0) as referrals_count,
        coalesce(grouped.onward_referrals_count, 0) as onward_referrals_count,
        coalesce(grouped.onward_referrals_attended_count, 0) as onward_referrals_attended_count,
        coalesce(grouped.first_contact_within_14_days_count, 0)
            as first_contact_within_14_days_count,
        coalesce(grouped.wellbeing_change_recorded_count, 0) as wellbeing_change_recorded_count,
        grouped.wellbeing_change_mean_swemwbs,
        populations.population_total
    from grouped
    full outer join populations
        on grouped.equity_dimension = populations.equity_dimension
        and grouped.group_value = populations.group_value

),

final as (

    select
        -- grain
        cast(group_totals.equity_dimension as varchar) as equity_dimension,
        cast(group_totals.group_value as varchar) as group_value,

        -- window
        cast(window_bounds.period_start_date as date) as period_start_date,
        cast({{ dbt.last_day('window_bounds.latest_month_start_date', 'month') }} as date)
            as period_end_date,
        cast(window_bounds.months_count as bigint) as months_count,

        -- referrals
        cast(group_totals.referrals_count as bigint) as referrals_count,
        cast(
            100.0 * group_totals.referrals_count
            / nullif(
                sum(group_totals.referrals_count) over (
                    partition by group_totals.equity_dimension
                ),
                0
            )
            as double
        ) as referrals_share_pct,
        cast(group_totals.population_total as bigint) as population_total,
        cast(
            1000.0 * group_totals.referrals_count / nullif(group_totals.population_total, 0)
            * 12 / window_bounds.months_count
            as double
        ) as referrals_per_1000_per_year,

        -- conversion
        cast(group_totals.onward_referrals_count as bigint) as onward_referrals_count,
        cast(group_totals.onward_referrals_attended_count as bigint)
            as onward_referrals_attended_count,
        cast(
            100.0 * group_totals.onward_referrals_attended_count
            / nullif(group_totals.onward_referrals_count, 0)
            as double
        ) as onward_referral_conversion_pct,
        cast(
            100.0 * group_totals.first_contact_within_14_days_count
            / nullif(group_totals.referrals_count, 0)
            as double
        ) as first_contact_within_14_days_pct,

        -- wellbeing
        cast(group_totals.wellbeing_change_recorded_count as bigint)
            as wellbeing_change_recorded_count,
        cast(group_totals.wellbeing_change_mean_swemwbs as double) as wellbeing_change_mean_swemwbs

    from group_totals
    cross join window_bounds

)

select * from final
