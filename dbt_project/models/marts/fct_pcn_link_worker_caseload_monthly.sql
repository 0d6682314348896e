{#-
    Link worker caseload per PCN and month: whole-time equivalents, open caseload, new
    referrals, referrals per FTE (in the month and over 12 months) and how quickly people
    are first contacted. A PCN is over a safe caseload when its referrals over the 12 months
    ending with the month, per mean FTE, pass var safe_referrals_per_fte_12m.
-#}
with

pcns as (

    select * from {{ ref('dim_pcns') }}

),

months as (

    select * from {{ ref('int_months') }}

),

capacity as (

    select * from {{ ref('stg_social_prescribing__link_worker_capacity') }}

),

referrals as (

    select * from {{ ref('fct_referrals') }}

),

referrals_by_month as (

    select
        pcn_code,
        referral_month_start_date as month_start_date,
        count(*) as referrals_count,
        count(case when is_first_contact_within_14_days then 1 end)
            as first_contact_within_14_days_count
    from referrals
    where pcn_code is not null
    group by pcn_code, referral_month_start_date

),

joined as (

    select
        pcns.pcn_code,
        months.month_start_date,
        months.is_complete_month,
        pcns.pcn_name,
        capacity.link_worker_fte,
        capacity.open_caseload,
        coalesce(referrals_by_month.referrals_count, 0) as referrals_count,
        coalesce(referrals_by_month.first_contact_within_14_days_count, 0)
            as first_contact_within_14_days_count
    from pcns
    cross join months
    left join capacity
        on pcns.pcn_code = capacity.pcn_code
        and months.month_start_date = capacity.month_start_date
    left join referrals_by_month
        on pcns.pcn_code = referrals_by_month.pcn_code
        and months.month_start_date = referrals_by_month.month_start_date

),

rolling as (

    select
        *,
        count(*) over trailing_12 as months_count,
        sum(referrals_count) over trailing_12 as referrals_12m_count,
        avg(link_worker_fte) over trailing_12 as link_worker_fte_mean_12m
    from joined
    window trailing_12 as (
        partition by pcn_code
        order by month_start_date
        rows between 11 preceding and current row
    )

),

final as (

    select
        -- grain
        cast(pcn_code as varchar) as pcn_code,
        cast(month_start_date as date) as month_start_date,
        cast(is_complete_month as boolean) as is_complete_month,
        cast(pcn_name as varchar) as pcn_name,

        -- capacity
        cast(link_worker_fte as double) as link_worker_fte,
        cast(open_caseload as bigint) as open_caseload,
        cast(open_caseload / nullif(link_worker_fte, 0) as double) as open_caseload_per_fte,

        -- demand
        cast(referrals_count as bigint) as referrals_count,
        cast(referrals_count / nullif(link_worker_fte, 0) as double) as referrals_per_fte,
        cast(months_count as bigint) as months_count,
        cast(referrals_12m_count as bigint) as referrals_12m_count,
        cast(link_worker_fte_mean_12m as double) as link_worker_fte_mean_12m,
        cast(referrals_12m_count / nullif(link_worker_fte_mean_12m, 0) as double)
            as referrals_per_fte_12m,
        cast(
            coalesce(
                referrals_12m_count / nullif(link_worker_fte_mean_12m, 0)
                > {{ var('safe_referrals_per_fte_12m') }},
                false
            )
            as boolean
        ) as is_over_safe_caseload,

        -- timeliness
        cast(first_contact_within_14_days_count as bigint) as first_contact_within_14_days_count,
        cast(100.0 * first_contact_within_14_days_count / nullif(referrals_count, 0) as double)
            as first_contact_within_14_days_pct

    from rolling

)

select * from final
