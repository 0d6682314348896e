{#- Calendar quarter spine: one row per quarter holding a day of int_days. -#}
with

days as (

    select * from {{ ref('int_days') }}

),

final as (

    select
        quarter_start_date,
        cast({{ dbt.last_day('quarter_start_date', 'quarter') }} as date) as quarter_end_date,
        -- the part of the quarter the marts count: from the first day of the spine to the
        -- end of the quarter or the as-of date
        min(date_day) as period_start_date,
        max(date_day) as period_end_date,
        cast({{ dbt.last_day('quarter_start_date', 'quarter') }} as date)
            <= max(as_of_date) as is_complete_quarter,
        max(as_of_date) as as_of_date
    from days
    group by quarter_start_date

)

select * from final
