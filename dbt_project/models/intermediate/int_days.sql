{#-
    Day spine: one row per day from the first day of the month spine (int_months) to the
    as-of date, with the ISO week, month and quarter each day belongs to.
-#}
with

months as (

    select * from {{ ref('int_months') }}

),

bounds as (

    select
        min(month_start_date) as first_date,
        max(as_of_date) as as_of_date
    from months

),

day_numbers as (

    -- 100 years of days, as int_months holds at most 1,200 months
    {{ dbt.generate_series(36525) }}

),

days as (

    select
        cast(
            {{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'bounds.first_date') }}
            as date
        ) as date_day,
        bounds.as_of_date
    from bounds
    cross join day_numbers
    where
        {{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'bounds.first_date') }}
        <= bounds.as_of_date

),

final as (

    select
        date_day,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start_date,
        cast(isoyear(date_day) as integer) as iso_year,
        cast(week(date_day) as integer) as iso_week,
        cast(isodow(date_day) as integer) as iso_day_of_week,
        cast(extract(year from date_day) as integer) as calendar_year,
        cast(extract(quarter from date_day) as integer) as calendar_quarter,
        isodow(date_day) >= 6 as is_weekend,
        as_of_date
    from days

)

select * from final
