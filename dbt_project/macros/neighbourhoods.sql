{#-
    The unit a "neighbourhood" is built from, chosen with the project var `neighbourhood_level`.
    Implemented: lsoa, msoa, ward, lad (columns of the geography lookup). Planned: pcn and a
    custom LSOA-to-neighbourhood mapping. Any other value stops the run with a plain message.
-#}
{% macro neighbourhood_level() -%}
    {%- set levels = ['lsoa', 'msoa', 'ward', 'lad'] -%}
    {%- set planned = ['pcn', 'custom'] -%}
    {%- set level = (var('neighbourhood_level', 'msoa') | string | trim | lower) -%}
    {%- if level in planned -%}
        {{ exceptions.raise_compiler_error(
            "var neighbourhood_level='" ~ level ~ "' is not supported yet: "
            ~ "use one of " ~ levels | join(', ')
            ~ " (pcn and custom mappings are planned)."
        ) }}
    {%- elif level not in levels -%}
        {{ exceptions.raise_compiler_error(
            "var neighbourhood_level='" ~ level ~ "' is not a neighbourhood level: "
            ~ "use one of " ~ levels | join(', ') ~ "."
        ) }}
    {%- endif -%}
    {{ return(level) }}
{%- endmacro %}

{# Geography column holding the neighbourhood code for the chosen level. #}
{% macro neighbourhood_code_column() -%}
    {{ return(neighbourhood_level() ~ '_code') }}
{%- endmacro %}

{# Geography column holding the neighbourhood name for the chosen level. #}
{% macro neighbourhood_name_column() -%}
    {{ return(neighbourhood_level() ~ '_name') }}
{%- endmacro %}
