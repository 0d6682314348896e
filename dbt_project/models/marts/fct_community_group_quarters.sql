{#-
    For each community provider and quarter: referrals it received, referred people who
    attended, and the money it received, split by purpose. Whether the community end is paid
    for taking referrals, made measurable.

    Incremental by quarter (macros/incremental.sql): a weekly build rebuilds the quarters
    from the first one the new data touches.
-#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ incremental_delete_from_first_period('quarter') }}",
    )
}}
with

-- the first quarter this build rebuilds (all of them in a whole build)
rebuilt as (

    select {{ incremental_period_rebuilt_from() }} as rebuilt_from_date

),

providers as (

    select * from {{ ref('dim_providers') }}

),

quarters as (

    select * from {{ ref('int_quarters') }}
    where quarter_start_date >= (select rebuilt_from_date from rebuilt)

),

onward_referrals as (

    select * from {{ ref('fct_onward_referrals') }}
    where onward_referral_quarter_start_date >= (select rebuilt_from_date from rebuilt)

),

referrals as (

    select * from {{ ref('fct_referrals') }}

),

funding_spread as (

    select * from {{ ref('int_funding_spread_over_quarters') }}
    where quarter_start_date >= (select rebuilt_from_date from rebuilt)

),

matched_providers as (

    select * from {{ ref('int_grants_matched_to_providers') }}

),

referrals_by_quarter as (

    select
        onward_referrals.provider_id,
        onward_referrals.onward_referral_quarter_start_date as quarter_start_date,
        count(*) as onward_referrals_received_count,
        count(case when onward_referrals.is_unmet_for_capacity then 1 end)
            as onward_referrals_unmet_count,
        count(case when onward_referrals.is_attended then 1 end) as onward_referrals_attended_count,
        count(distinct case when onward_referrals.is_attended then referrals.person_id end)
            as referred_people_attended_count
    from onward_referrals
    inner join referrals
        on onward_referrals.referral_id = referrals.referral_id
    where onward_referrals.provider_id is not null
    group by onward_referrals.provider_id, onward_referrals.onward_referral_quarter_start_date

),

-- the money benefiting inside the ICB, for the recipient's directory records
funding_by_quarter as (

    select
        matched_providers.provider_id,
        funding_spread.quarter_start_date,
        sum(funding_spread.funding_gbp * matched_providers.provider_share) as funding_gbp,
        {%- for purpose in ['core', 'project', 'social_prescribing_contract'] %}
        coalesce(sum(
            case
                when funding_spread.funding_purpose = '{{ purpose }}'
                    then funding_spread.funding_gbp * matched_providers.provider_share
            end
        ), 0) as funding_{{ purpose }}_gbp{{ ',' if not loop.last }}
        {%- endfor %}
    from funding_spread
    inner join matched_providers
        on funding_spread.grant_id = matched_providers.grant_id
    group by matched_providers.provider_id, funding_spread.quarter_start_date

),

joined as (

    select
        providers.provider_id,
        quarters.quarter_start_date,
        quarters.is_complete_quarter,
        providers.neighbourhood_code,
        providers.provider_name,
        providers.provider_type,
        providers.is_volunteer_led,
        coalesce(referrals_by_quarter.onward_referrals_received_count, 0)
            as onward_referrals_received_count,
        coalesce(referrals_by_quarter.onward_referrals_unmet_count, 0)
            as onward_referrals_unmet_count,
        coalesce(referrals_by_quarter.onward_referrals_attended_count, 0)
            as onward_referrals_attended_count,
        coalesce(referrals_by_quarter.referred_people_attended_count, 0)
            as referred_people_attended_count,
        coalesce(funding_by_quarter.funding_gbp, 0) as funding_gbp,
        coalesce(funding_by_quarter.funding_core_gbp, 0) as funding_core_gbp,
        coalesce(funding_by_quarter.funding_project_gbp, 0) as funding_project_gbp,
        coalesce(funding_by_quarter.funding_social_prescribing_contract_gbp, 0)
            as funding_social_prescribing_contract_gbp
    from providers
    cross join quarters
    left join referrals_by_quarter
        on providers.provider_id = referrals_by_quarter.provider_id
        and quarters.quarter_start_date = referrals_by_quarter.quarter_start_date
    left join funding_by_quarter
        on providers.provider_id = funding_by_quarter.provider_id
        and quarters.quarter_start_date = funding_by_quarter.quarter_start_date

),

final as (

    select
        -- grain
        cast(provider_id as varchar) as provider_id,
        cast(quarter_start_date as date) as quarter_start_date,
        cast(is_complete_quarter as boolean) as is_complete_quarter,

        -- provider
        cast(neighbourhood_code as varchar) as neighbourhood_code,
        cast(provider_name as varchar) as provider_name,
        cast(provider_type as varchar) as provider_type,
        cast(is_volunteer_led as boolean) as is_volunteer_led,

        -- referrals received
        cast(onward_referrals_received_count as bigint) as onward_referrals_received_count,
        cast(onward_referrals_unmet_count as bigint) as onward_referrals_unmet_count,
        cast(onward_referrals_attended_count as bigint) as onward_referrals_attended_count,
        cast(referred_people_attended_count as bigint) as referred_people_attended_count,

        -- money received
        cast(funding_gbp as double) as funding_gbp,
        cast(funding_core_gbp as double) as funding_core_gbp,
        cast(funding_project_gbp as double) as funding_project_gbp,
        cast(funding_social_prescribing_contract_gbp as double)
            as funding_social_prescribing_contract_gbp,
        cast(funding_gbp / nullif(referred_people_attended_count, 0) as double)
            as funding_per_referred_attendee_gbp,

        -- flags
        cast(
            onward_referrals_received_count > 0 and funding_social_prescribing_contract_gbp = 0
            as boolean
        ) as is_taking_referrals_without_payment,
        cast(onward_referrals_received_count > 0 and funding_gbp = 0 as boolean)
            as is_taking_referrals_without_any_funding

    from joined

)

select * from final
