{#-
    Incremental facts (fct_referrals, fct_onward_referrals, fct_activity_sessions).

    A weekly build rebuilds only the months from `incremental_first_month` on: the pre-hook
    (`incremental_delete_from_first_month`) deletes them from the table, the model selects
    the months after those kept (`incremental_after_kept_months`) from staging, and dbt
    appends them (incremental_strategy append). The loader's rule that a later file
    replaces the months it covers is kept because a replaced month is always at or after the
    first month (its rows carry a load the table has not seen), so its old rows are deleted
    with it. Everything is rebuilt (first month 1900-01) when
    - the table has no `loaded_at` column yet (a warehouse built before these were
      incremental),
    - a snapshot source the fact takes codes from was loaded after the table's newest row
      (geography, practices, deprivation, providers, activities: a neighbourhood or PCN may
      have moved), or
    - a stale check finds codes in the table the current mapping does not hold (e.g. after
      changing var neighbourhood_level): stale_checks is a list of
      [columns of this table, model, the same columns in the model]; rows whose last
      column is null (no neighbourhood) are not compared.
    On a fresh warehouse, and with `dbt build --full-refresh`, the table is built whole.

    own: {'name': raw table, 'period': its period column} - months holding rows of a load
         the table does not hold yet.
    upstream: the same for other period sources the fact reads codes from (onward referrals
         take their neighbourhood from their referral): months holding rows loaded after
         the table's newest row.
    Also always rebuilt: the month of the table's latest row and the month of the as-of
    date (rows after the old as-of date may now be in range; rows after a moved-back as-of
    date must go).
-#}
{% macro incremental_first_month(date_column, own, upstream=[], snapshots=[], stale_checks=[]) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- if 'loaded_at' not in columns -%}
        {{ return('1900-01-01') }}
    {%- endif -%}
    {%- set query -%}
        with

        watermark as (
            select
                max(loaded_at) as loaded_at,
                max({{ date_column }}) as last_date
            from {{ this }}
        ),

        candidates as (
            select min({{ own.period }}) as first_date
            from {{ source('raw', own.name) }}
            where _loaded_at not in (select distinct loaded_at from {{ this }})
            {%- for other in upstream %}
            union all
            select min({{ other.period }})
            from {{ source('raw', other.name) }}
            where _loaded_at > (select loaded_at from watermark)
            {%- endfor %}
            union all
            select last_date from watermark
            union all
            select max(date_day) from {{ ref('int_days') }}
        ),

        rebuild_all as (
            select (
                (select loaded_at from watermark) is null
                {%- for snapshot in snapshots %}
                or coalesce(
                    (select max(_loaded_at) from {{ source('raw', snapshot) }})
                    > (select loaded_at from watermark),
                    false
                )
                {%- endfor %}
                {%- for columns, model, model_columns in stale_checks %}
                or exists (
                    select {{ columns }} from {{ this }}
                    where {{ columns.split(',')[-1] }} is not null
                    except
                    select {{ model_columns }} from {{ ref(model) }}
                )
                {%- endfor %}
            ) as flag
        )

        select
            case
                when (select flag from rebuild_all) then cast('1900-01-01' as date)
                else cast({{ dbt.date_trunc('month', 'min(first_date)') }} as date)
            end as first_month
        from candidates
    {%- endset -%}
    {%- set first_month = run_query(query).columns[0].values()[0] -%}
    {{ return(first_month | string) }}
{%- endmacro %}


{#-
    The pre-hook of an incremental fact: delete the months from the first month on
    (arguments after month_column: those of incremental_first_month).
-#}
{% macro incremental_delete_from_first_month(month_column) -%}
    {%- set first_month = incremental_first_month(*varargs, **kwargs) -%}
    {%- if first_month is not none -%}
        {{ log(this ~ ": rebuilding from " ~ first_month, info=false) }}
        delete from {{ this }} where {{ month_column }} >= cast('{{ first_month }}' as date)
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}


{#-
    The model's filter in an incremental run: the months after the last one the pre-hook
    left in the table (all of them when it emptied the table).
-#}
{% macro incremental_after_kept_months(date_expression, month_column) -%}
    {{ date_expression }} >= (
        select
            coalesce(
                cast({{ dbt.dateadd('month', 1, 'max(' ~ month_column ~ ')') }} as date),
                cast('1900-01-01' as date)
            )
        from {{ this }}
    )
{%- endmacro %}
