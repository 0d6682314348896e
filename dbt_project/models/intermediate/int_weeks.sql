{#-
    ISO week spine (weeks start on Monday): one row per week from the week holding the first
    day of the month spine to the week holding the as-of date.
-#}
with

days as (

    select * from {{ ref('int_days') }}

),

final as (

    select
        week_start_date,
        min(iso_year) as iso_year,
        min(iso_week) as iso_week,
        cast({{ dbt.dateadd('day', 6, 'week_start_date') }} as date) as week_end_date,
        -- the part of the week the marts count: from the first day of the spine ...
        min(date_day) as period_start_date,
        -- ... to the end of the week or the as-of date
        least(cast({{ dbt.dateadd('day', 6, 'week_start_date') }} as date), max(as_of_date)) as period_end_date,
        cast({{ dbt.dateadd('day', 6, 'week_start_date') }} as date) <= max(as_of_date) as is_complete_week,
        max(as_of_date) as as_of_date
    from days
    group by week_start_date

)

select * from final
