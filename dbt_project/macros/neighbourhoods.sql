{#-
    The unit a "neighbourhood" is built from, chosen with the project var `neighbourhood_level`:
    lsoa, msoa, ward, lad (columns of the geography lookup), pcn (each LSOA assigned to one
    PCN, int_lsoas_assigned_to_pcns) or custom (a CSV file named by var
    neighbourhood_mapping_csv). Any other value stops the run with a plain message.
-#}
{% macro neighbourhood_level() -%}
    {%- set levels = ['lsoa', 'msoa', 'ward', 'lad', 'pcn', 'custom'] -%}
    {%- set level = (var('neighbourhood_level', 'msoa') | string | trim | lower) -%}
    {%- if level not in levels -%}
        {{ exceptions.raise_compiler_error(
            "var neighbourhood_level='" ~ level ~ "' is not a neighbourhood level: "
            ~ "use one of " ~ levels | join(', ') ~ "."
        ) }}
    {%- endif -%}
    {{ return(level) }}
{%- endmacro %}

{#-
    The CSV file of a custom neighbourhood mapping (var neighbourhood_mapping_csv), checked to
    exist when the model runs: a missing or unset file stops the run with a plain message.
-#}
{% macro neighbourhood_mapping_csv() -%}
    {%- set path = var('neighbourhood_mapping_csv', none) -%}
    {%- if path is none or (path | string | trim | lower) in ('', 'none', 'null') -%}
        {{ exceptions.raise_compiler_error(
            "var neighbourhood_level='custom' needs var neighbourhood_mapping_csv: the path of "
            ~ "a CSV file with columns lsoa_code, neighbourhood_name."
        ) }}
    {%- endif -%}
    {%- set path = path | string | trim -%}
    {%- if execute -%}
        {%- set found = run_query(
            "select count(*) from glob('" ~ path | replace("'", "''") ~ "')"
        ).columns[0].values()[0] -%}
        {%- if found == 0 -%}
            {{ exceptions.raise_compiler_error(
                "var neighbourhood_mapping_csv='" ~ path ~ "': no such file (a CSV with "
                ~ "columns lsoa_code, neighbourhood_name; relative paths are read from the "
                ~ "directory dbt runs in)."
            ) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(path | replace("'", "''")) }}
{%- endmacro %}

{#-
    z-score of a column across the rows of the query (or of each partition): (value - mean) /
    population standard deviation; 0 when every row has the same value; null when the value
    is null.
-#}
{% macro z_score(column, partition_by=none) -%}
    {%- set over -%}
        over ({% if partition_by %}partition by {{ partition_by }}{% endif %})
    {%- endset -%}
    case
        when {{ column }} is null then null
        else coalesce(
            ({{ column }} - avg({{ column }}) {{ over }})
            / nullif(stddev_pop({{ column }}) {{ over }}, 0),
            0
        )
    end
{%- endmacro %}
