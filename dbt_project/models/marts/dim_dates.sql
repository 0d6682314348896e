with

days as (

    select * from {{ ref('int_days') }}

),

final as (

    select
        -- grain
        cast(date_day as date) as date_day,

        -- periods
        cast(week_start_date as date) as week_start_date,
        cast(iso_year as integer) as iso_year,
        cast(iso_week as integer) as iso_week,
        cast(iso_day_of_week as integer) as iso_day_of_week,
        cast(month_start_date as date) as month_start_date,
        cast(quarter_start_date as date) as quarter_start_date,
        cast(calendar_year as integer) as calendar_year,
        cast(calendar_quarter as integer) as calendar_quarter,

        -- flags
        cast(is_weekend as boolean) as is_weekend,
        cast(date_day = as_of_date as boolean) as is_as_of_date

    from days

)

select * from final
