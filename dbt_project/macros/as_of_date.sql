{#-
    The last date the marts cover, as a SQL date expression. var as_of_date ('YYYY-MM-DD')
    when set; otherwise the latest referral date loaded (`fallback_sql`, a scalar subquery
    the caller passes, so that this macro takes no ref of its own).
-#}
{% macro as_of_date(fallback_sql) -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or (value | string | trim | lower) in ('', 'none', 'null') -%}
        ({{ fallback_sql }})
    {%- else -%}
        {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}$', value | string | trim) -%}
            {{ exceptions.raise_compiler_error(
                "var as_of_date='" ~ value ~ "' is not a date: use YYYY-MM-DD, or null for "
                ~ "the latest referral date loaded."
            ) }}
        {%- endif -%}
        cast('{{ value | string | trim }}' as date)
    {%- endif -%}
{%- endmacro %}
