{#-
    Need for social prescribing next to community capacity, per neighbourhood and period
    (month or ISO week): the body of fct_neighbourhood_need_capacity_monthly and _weekly.
    Every neighbourhood appears in every period of the spine, with zeros where nothing
    happened. Formulas are written in the marts' yml.

    Incremental by period (macros/incremental.sql): a weekly build selects only the periods
    from the first one the new data touches. Link worker FTE is shared among neighbourhoods
    by referrals over all months (int_link_worker_fte_apportioned_to_neighbourhoods), so new
    referrals move it in every period: the post-hook neighbourhood_link_workers_update
    rewrites the link worker columns of the periods kept.
-#}
{% macro neighbourhood_need_capacity(period) -%}
{%- set spine = period_spine(period) -%}
{%- set key = spine.key -%}
{%- set needs = var('primary_needs') -%}
{%- set sources = var('referral_sources') -%}
with

-- the first period this build rebuilds (all of them in a whole build)
rebuilt as (

    select {{ incremental_period_rebuilt_from() }} as rebuilt_from_date

),

neighbourhoods as (

    select * from {{ ref('dim_neighbourhoods') }}

),

periods as (

    select * from {{ ref(spine.model) }}
    where {{ key }} >= (select rebuilt_from_date from rebuilt)

),

referrals as (

    select * from {{ ref('fct_referrals') }}
    where referral_{{ key }} >= (select rebuilt_from_date from rebuilt)

),

onward_referrals as (

    select * from {{ ref('fct_onward_referrals') }}
    where onward_referral_{{ key }} >= (select rebuilt_from_date from rebuilt)

),

sessions as (

    select * from {{ ref('fct_activity_sessions') }}
    where session_{{ key }} >= (select rebuilt_from_date from rebuilt)

),

-- each grant's money in each neighbourhood where it benefits
grants as (

    select * from {{ ref('fct_funding_by_neighbourhood') }}

),

activities_active as (

    select * from {{ ref('int_activities_active_by_' ~ period) }}
    where {{ key }} >= (select rebuilt_from_date from rebuilt)

),

-- int_funding_spread_over_<period>s over the rebuilt periods alone
funding_spread as (

    {{ funding_spread_over(period, periods_from='(select rebuilt_from_date from rebuilt)') }}

),

link_workers as (

    select * from {{ ref('int_link_worker_fte_apportioned_to_neighbourhoods') }}
    where month_start_date
        >= cast({{ dbt.date_trunc('month', '(select rebuilt_from_date from rebuilt)') }} as date)

),

-- every neighbourhood in every period, so that a period with nothing shows as zero
neighbourhood_periods as (

    select
        neighbourhoods.neighbourhood_code,
        periods.{{ key }},
        periods.period_end_date,
        periods.{{ spine.complete }},
        neighbourhoods.population_total,
        neighbourhoods.imd_score_pop_weighted,
        neighbourhoods.share_lsoas_most_deprived_decile_pct
    from neighbourhoods
    cross join periods

),

referrals_by_period as (

    select
        neighbourhood_code,
        referral_{{ key }} as {{ key }},
        count(*) as referrals_count,
        {%- for need in needs %}
        count(case when primary_need = '{{ need }}' then 1 end) as referrals_need_{{ need }}_count,
        {%- endfor %}
        {%- for source in sources %}
        count(case when referral_source = '{{ source }}' then 1 end)
            as referrals_source_{{ source }}_count,
        {%- endfor %}
        count(wellbeing_change_swemwbs) as wellbeing_change_recorded_count,
        avg(wellbeing_change_swemwbs) as wellbeing_change_mean_swemwbs
    from referrals
    group by neighbourhood_code, referral_{{ key }}

),

onward_referrals_by_period as (

    select
        neighbourhood_code,
        onward_referral_{{ key }} as {{ key }},
        count(*) as onward_referrals_count,
        count(case when is_refused_no_capacity then 1 end)
            as onward_referrals_refused_no_capacity_count,
        count(case when is_waitlisted then 1 end) as onward_referrals_waitlisted_count,
        count(case when is_attended then 1 end) as onward_referrals_attended_count,
        count(case when is_attended and is_supported_first_visit then 1 end)
            as first_visits_supported_count
    from onward_referrals
    group by neighbourhood_code, onward_referral_{{ key }}

),

sessions_by_period as (

    select
        neighbourhood_code,
        session_{{ key }} as {{ key }},
        sum(places_available) as session_places_count,
        sum(attendees) as session_attendees_count,
        sum(referred_attendees) as session_referred_attendees_count
    from sessions
    where neighbourhood_code is not null
    group by neighbourhood_code, session_{{ key }}

),

activities_by_period as (

    select
        neighbourhood_code,
        {{ key }},
        count(*) as activities_active_count,
        -- places of the activities that publish them; the others are counted, not added as 0
        sum(weekly_places) as weekly_places,
        count(case when not is_capacity_known then 1 end) as activities_unknown_capacity_count
    from activities_active
    group by neighbourhood_code, {{ key }}

),

funding_by_period as (

    select
        neighbourhood_code,
        {{ key }},
        sum(funding_gbp) as funding_gbp,
        sum(case when funding_purpose = 'core' then funding_gbp end) as funding_core_gbp
    from funding_spread
    group by neighbourhood_code, {{ key }}

),

-- grants running on the last counted day of the period, by daily rate
current_funding_by_period as (

    select
        grants.neighbourhood_code,
        periods.{{ key }},
        sum(grants.amount_per_day_gbp) as current_funding_per_day_gbp,
        {%- for months_ahead in [6, 12] %}
        sum(
            case
                when grants.planned_end_date
                    <= {{ dbt.dateadd('month', months_ahead, 'periods.period_end_date') }}
                    then grants.amount_per_day_gbp
            end
        ) as ending_{{ months_ahead }}m_funding_per_day_gbp{{ ',' if not loop.last }}
        {%- endfor %}
    from grants
    inner join periods
        on grants.planned_start_date <= periods.period_end_date
        and grants.planned_end_date >= periods.period_end_date
    group by grants.neighbourhood_code, periods.{{ key }}

),

link_workers_by_period as (

    select
        neighbourhood_code,
        month_start_date,
        link_worker_fte
    from link_workers

),

joined as (

    select
        neighbourhood_periods.*,
        coalesce(referrals_by_period.referrals_count, 0) as referrals_count,
        {%- for need in needs %}
        coalesce(referrals_by_period.referrals_need_{{ need }}_count, 0)
            as referrals_need_{{ need }}_count,
        {%- endfor %}
        {%- for source in sources %}
        coalesce(referrals_by_period.referrals_source_{{ source }}_count, 0)
            as referrals_source_{{ source }}_count,
        {%- endfor %}
        coalesce(referrals_by_period.wellbeing_change_recorded_count, 0)
            as wellbeing_change_recorded_count,
        referrals_by_period.wellbeing_change_mean_swemwbs,
        coalesce(onward_referrals_by_period.onward_referrals_count, 0) as onward_referrals_count,
        coalesce(onward_referrals_by_period.onward_referrals_refused_no_capacity_count, 0)
            as onward_referrals_refused_no_capacity_count,
        coalesce(onward_referrals_by_period.onward_referrals_waitlisted_count, 0)
            as onward_referrals_waitlisted_count,
        coalesce(onward_referrals_by_period.onward_referrals_attended_count, 0)
            as onward_referrals_attended_count,
        coalesce(onward_referrals_by_period.first_visits_supported_count, 0)
            as first_visits_supported_count,
        coalesce(activities_by_period.activities_active_count, 0) as activities_active_count,
        coalesce(activities_by_period.weekly_places, 0) as weekly_places,
        coalesce(activities_by_period.activities_unknown_capacity_count, 0)
            as activities_unknown_capacity_count,
        coalesce(sessions_by_period.session_places_count, 0) as session_places_count,
        coalesce(sessions_by_period.session_attendees_count, 0) as session_attendees_count,
        coalesce(sessions_by_period.session_referred_attendees_count, 0)
            as session_referred_attendees_count,
        coalesce(funding_by_period.funding_gbp, 0) as funding_gbp,
        coalesce(funding_by_period.funding_core_gbp, 0) as funding_core_gbp,
        coalesce(current_funding_by_period.current_funding_per_day_gbp, 0)
            as current_funding_per_day_gbp,
        coalesce(current_funding_by_period.ending_6m_funding_per_day_gbp, 0)
            as ending_6m_funding_per_day_gbp,
        coalesce(current_funding_by_period.ending_12m_funding_per_day_gbp, 0)
            as ending_12m_funding_per_day_gbp,
        coalesce(link_workers_by_period.link_worker_fte, 0) as link_worker_fte
    from neighbourhood_periods
    {%- for by_period in [
        'referrals_by_period',
        'onward_referrals_by_period',
        'sessions_by_period',
        'activities_by_period',
        'funding_by_period',
        'current_funding_by_period',
    ] %}
    left join {{ by_period }}
        on neighbourhood_periods.neighbourhood_code = {{ by_period }}.neighbourhood_code
        and neighbourhood_periods.{{ key }} = {{ by_period }}.{{ key }}
    {%- endfor %}
    left join link_workers_by_period
        on neighbourhood_periods.neighbourhood_code = link_workers_by_period.neighbourhood_code
        and cast({{ dbt.date_trunc('month', 'neighbourhood_periods.' ~ key) }} as date)
            = link_workers_by_period.month_start_date

),

final as (

    select
        -- grain
        cast(neighbourhood_code as varchar) as neighbourhood_code,
        cast({{ key }} as date) as {{ key }},
        cast({{ spine.complete }} as boolean) as {{ spine.complete }},

        -- population and deprivation (the same every period)
        cast(population_total as bigint) as population_total,
        cast(imd_score_pop_weighted as double) as imd_score_pop_weighted,
        cast(share_lsoas_most_deprived_decile_pct as double)
            as share_lsoas_most_deprived_decile_pct,

        -- need: referrals
        cast(referrals_count as bigint) as referrals_count,
        cast(1000.0 * referrals_count / nullif(population_total, 0) as double)
            as referrals_per_1000,
        {%- for need in needs %}
        cast(referrals_need_{{ need }}_count as bigint) as referrals_need_{{ need }}_count,
        {%- endfor %}
        {%- for source in sources %}
        cast(referrals_source_{{ source }}_count as bigint) as referrals_source_{{ source }}_count,
        {%- endfor %}

        -- onward referrals and what became of them
        cast(onward_referrals_count as bigint) as onward_referrals_count,
        cast(onward_referrals_refused_no_capacity_count as bigint)
            as onward_referrals_refused_no_capacity_count,
        cast(onward_referrals_waitlisted_count as bigint) as onward_referrals_waitlisted_count,
        cast(
            100.0 * (onward_referrals_refused_no_capacity_count + onward_referrals_waitlisted_count)
            / nullif(onward_referrals_count, 0)
            as double
        ) as onward_referrals_unmet_pct,
        cast(onward_referrals_attended_count as bigint) as onward_referrals_attended_count,
        cast(100.0 * onward_referrals_attended_count / nullif(onward_referrals_count, 0) as double)
            as onward_referral_conversion_pct,
        cast(first_visits_supported_count as bigint) as first_visits_supported_count,
        cast(
            100.0 * first_visits_supported_count / nullif(onward_referrals_attended_count, 0)
            as double
        ) as supported_first_visit_pct,

        -- community capacity: activities and places
        cast(activities_active_count as bigint) as activities_active_count,
        cast(weekly_places as double) as weekly_places,
        cast(1000.0 * weekly_places / nullif(population_total, 0) as double)
            as weekly_places_per_1000,
        cast(activities_unknown_capacity_count as bigint) as activities_unknown_capacity_count,
        cast(activities_unknown_capacity_count > 0 as boolean) as is_capacity_partly_unknown,
        cast(session_places_count as bigint) as session_places_count,
        cast(session_attendees_count as bigint) as session_attendees_count,
        cast(session_referred_attendees_count as bigint) as session_referred_attendees_count,
        cast(100.0 * session_attendees_count / nullif(session_places_count, 0) as double)
            as utilisation_pct,

        -- community capacity: money
        cast(funding_gbp as double) as funding_gbp,
        cast(funding_gbp / nullif(population_total, 0) as double) as funding_per_head_gbp,
        cast(funding_core_gbp as double) as funding_core_gbp,
        cast(round(100.0 * funding_core_gbp / nullif(funding_gbp, 0), 6) as double)
            as funding_core_share_pct,
        cast(current_funding_per_day_gbp as double) as current_funding_per_day_gbp,
        -- rounded so that float sums in a different order cannot pass 100
        cast(
            round(
                100.0 * ending_6m_funding_per_day_gbp / nullif(current_funding_per_day_gbp, 0),
                6
            )
            as double
        ) as funding_at_risk_6m_pct,
        -- rounded so that float sums in a different order cannot pass 100
        cast(
            round(
                100.0 * ending_12m_funding_per_day_gbp / nullif(current_funding_per_day_gbp, 0),
                6
            )
            as double
        ) as funding_at_risk_12m_pct,

        -- link workers
        {{ neighbourhood_link_worker_columns() }},

        -- wellbeing (SWEMWBS metric score)
        cast(wellbeing_change_recorded_count as bigint) as wellbeing_change_recorded_count,
        cast(wellbeing_change_mean_swemwbs as double) as wellbeing_change_mean_swemwbs

    from joined

)

select * from final
{%- endmacro %}



{#- The link worker columns of the need and capacity marts, from link_worker_fte, population_total and referrals_count. -#}
{% macro neighbourhood_link_worker_columns() -%}
        cast(link_worker_fte as double) as link_worker_fte,
        cast(10000.0 * link_worker_fte / nullif(population_total, 0) as double)
            as link_worker_fte_per_10k,
        cast(referrals_count / nullif(link_worker_fte, 0) as double) as referrals_per_fte
{%- endmacro %}


{#-
    Post-hook of the need and capacity marts: in an incremental build, the link worker
    columns of the periods kept (before the first one rebuilt), from the link worker FTE
    shared out again by the referrals now loaded. Rows whose FTE did not move are left alone.
-#}
{% macro neighbourhood_link_workers_update(period) -%}
    {%- set key = period_spine(period).key -%}
    {%- set rebuilt_from = none -%}
    {%- if execute and is_incremental() -%}
        {%- set rebuilt_from = run_query(
            'select ' ~ incremental_latest_rebuilt_from()
        ).columns[0].values()[0] | string -%}
    {%- endif -%}
    {%- if rebuilt_from is none or rebuilt_from == incremental_whole_table() -%}
        select 1 as nothing_to_update
    {%- else -%}
        update {{ this }} as mart
        set
            link_worker_fte = updated.link_worker_fte,
            link_worker_fte_per_10k = updated.link_worker_fte_per_10k,
            referrals_per_fte = updated.referrals_per_fte
        from (
            select
                neighbourhood_code,
                {{ key }},
                {{ neighbourhood_link_worker_columns() }}
            from (
                select
                    kept.neighbourhood_code,
                    kept.{{ key }},
                    kept.population_total,
                    kept.referrals_count,
                    coalesce(link_workers.link_worker_fte, 0) as link_worker_fte
                from {{ this }} as kept
                left join {{ ref('int_link_worker_fte_apportioned_to_neighbourhoods') }}
                    as link_workers
                    on kept.neighbourhood_code = link_workers.neighbourhood_code
                    and cast({{ dbt.date_trunc('month', 'kept.' ~ key) }} as date)
                        = link_workers.month_start_date
                where kept.{{ key }} < cast('{{ rebuilt_from }}' as date)
            ) as recomputed
        ) as updated
        where mart.neighbourhood_code = updated.neighbourhood_code
            and mart.{{ key }} = updated.{{ key }}
            and mart.link_worker_fte is distinct from updated.link_worker_fte
    {%- endif -%}
{%- endmacro %}
