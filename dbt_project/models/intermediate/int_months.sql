{#-
    One row per calendar month from the first referral month to the month holding the as-of
    date (var as_of_date, or the latest referral date loaded). 1,200 months (100 years) is the
    most the spine holds.
-#}
{#-
    A table, not a view: int_days, int_weeks, int_quarters and macro spine_as_of_date read it
    in most marts (fct_provider_funding a dozen times), and as a view each read would scan
    every referral again for the first month and the as-of date.
-#}
{{ config(materialized='table') }}
with

referrals as (

    select * from {{ ref('stg_social_prescribing__referrals') }}

),

bounds as (

    select
        min(referral_month) as first_month_start_date,
        {{ as_of_date('select max(referral_date) from referrals') }} as as_of_date
    from referrals

),

month_numbers as (

    {{ dbt.generate_series(1200) }}

),

spined as (

    select
        cast(
            {{ dbt.dateadd(
                'month',
                'month_numbers.generated_number - 1',
                'bounds.first_month_start_date',
            ) }}
            as date
        ) as month_start_date,
        bounds.as_of_date
    from bounds
    cross join month_numbers

),

bounded as (

    select * from spined
    where month_start_date <= as_of_date

),

with_month_ends as (

    select
        month_start_date,
        cast({{ dbt.last_day('month_start_date', 'month') }} as date) as month_end_date,
        as_of_date
    from bounded

),

final as (

    select
        month_start_date,
        month_end_date,
        month_start_date as period_start_date,
        -- the part of the month the marts cover: all of it, or up to the as-of date
        case
            when month_end_date <= as_of_date then month_end_date
            else as_of_date
        end as period_end_date,
        {{ dbt.datediff('month_start_date', 'month_end_date', 'day') }} + 1 as days_in_month,
        month_end_date <= as_of_date as is_complete_month,
        as_of_date
    from with_month_ends

)

select * from final
