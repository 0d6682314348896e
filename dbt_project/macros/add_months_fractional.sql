{#-
    date_expr moved by months_expr months (a number, possibly fractional or negative, as
    360Giving's plannedDates.duration is): whole months by the calendar, the fraction as
    days of an average month (30.4375 days).
-#}
{% macro add_months_fractional(date_expr, months_expr) -%}
    cast(
        {{ date_expr }}
        + to_months(cast(trunc({{ months_expr }}) as integer))
        + to_days(cast(round(({{ months_expr }} - trunc({{ months_expr }})) * 30.4375) as integer))
        as date
    )
{%- endmacro %}
