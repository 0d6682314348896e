{#-
    Every row satisfies a SQL boolean expression. With column_name (a column-level test) the
    expression is appended to the column: `expression: ">= 0"`. Rows where the expression is
    null fail, so write the null case into the expression when nulls are allowed.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

with

final as (

    select * from {{ model }}
    {% if column_name is none -%}
    where not coalesce({{ expression }}, false)
    {%- else -%}
    where not coalesce({{ column_name }} {{ expression }}, false)
    {%- endif %}

)

select * from final

{% endtest %}
