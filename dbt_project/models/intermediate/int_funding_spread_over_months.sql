{#-
    Each grant spread evenly per day over its planned period (planned_start_date to
    planned_end_date, both included) and summed by month: funding_gbp = amount_per_day_gbp x
    the grant's days inside the month (up to the as-of date in the latest month). Placed in
    the neighbourhood where the recipient provider is based. Months outside the spine are not
    kept, so a grant's months before the first referral month or after the as-of date drop out.
-#}
with

funding as (

    select * from {{ ref('stg_community__provider_funding') }}

),

providers as (

    select * from {{ ref('stg_community__providers') }}

),

lsoas as (

    select * from {{ ref('int_lsoas_mapped_to_neighbourhoods') }}

),

months as (

    select * from {{ ref('int_months') }}

),

overlapping as (

    select
        funding.grant_id,
        months.month_start_date,
        funding.provider_id,
        lsoas.neighbourhood_code,
        funding.funding_purpose,
        funding.amount_awarded_gbp,
        funding.amount_per_day_gbp,
        greatest(funding.planned_start_date, months.month_start_date) as funded_from_date,
        least(funding.planned_end_date, months.period_end_date) as funded_to_date
    from funding
    inner join providers
        on funding.provider_id = providers.provider_id
    inner join lsoas
        on providers.base_lsoa_code = lsoas.lsoa_code
    inner join months
        on funding.planned_start_date <= months.period_end_date
        and funding.planned_end_date >= months.month_start_date

),

final as (

    select
        -- ids
        grant_id,
        month_start_date,
        provider_id,
        neighbourhood_code,

        -- grant
        funding_purpose,
        amount_awarded_gbp,

        -- spread
        {{ dbt.datediff('funded_from_date', 'funded_to_date', 'day') }} + 1 as funded_days,
        amount_per_day_gbp
            * ({{ dbt.datediff('funded_from_date', 'funded_to_date', 'day') }} + 1)
            as funding_gbp

    from overlapping

)

select * from final
