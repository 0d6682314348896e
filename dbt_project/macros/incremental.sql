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
        {{ return(incremental_whole_table()) }}
    {%- endif -%}
    {%- set ctes -%}
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
    {%- endset -%}
    {{ return(incremental_first_rebuilt('month', ctes)) }}
{%- endmacro %}


{#-
    The pre-hook of an incremental fact: delete the months from the first month on
    (arguments after month_column: those of incremental_first_month).
-#}
{% macro incremental_delete_from_first_month(month_column) -%}
    {{ incremental_delete_rebuilt(month_column, incremental_first_month(*varargs, **kwargs)) }}
{%- endmacro %}


{#-
    Record the build (incremental_record_build) and, in an incremental build, delete the
    rows from `rebuilt_from` on.
-#}
{% macro incremental_delete_rebuilt(period_column, rebuilt_from) -%}
    {%- do incremental_record_build(period_column, rebuilt_from) -%}
    {%- if rebuilt_from is not none and is_incremental() -%}
        {{ log(this ~ ": rebuilding from " ~ rebuilt_from, info=false) }}
        delete from {{ this }} where {{ period_column }} >= cast('{{ rebuilt_from }}' as date)
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
                {{ incremental_whole_table_sql() }}
            )
        from {{ this }}
    )
{%- endmacro %}


{#-
    What each incremental model rebuilt, so that tests can be scoped to the rebuilt rows:
    every build of an incremental model (facts and period marts) adds one row to
    audit.dbt_incremental_builds (created by the project's on-run-start hook):
    invocation_id, model_name (the table's name), period_column (the column whose values
    >= rebuilt_from are the rebuilt rows), rebuilt_from (first period start rebuilt;
    1900-01-01 when the table was built whole: first build, full refresh or a whole
    rebuild), recorded_at (UTC) and model_sql_hash (of the model's compiled SQL, so a
    changed model or var rebuilds a period mart whole).
-#}
{% macro incremental_create_builds_table() -%}
    create table if not exists audit.dbt_incremental_builds (
        invocation_id varchar,
        model_name varchar,
        period_column varchar,
        rebuilt_from date,
        recorded_at timestamp,
        model_sql_hash varchar
    )
{%- endmacro %}


{% macro incremental_record_build(period_column, rebuilt_from) -%}
    {%- if execute -%}
        {%- set recorded_at = modules.datetime.datetime.utcnow().isoformat(sep=' ') -%}
        {%- do run_query(
            "insert into audit.dbt_incremental_builds values ('" ~ invocation_id ~ "', '"
            ~ this.identifier ~ "', '" ~ period_column ~ "', cast('"
            ~ (rebuilt_from if rebuilt_from is not none else incremental_whole_table())
            ~ "' as date), cast('" ~ recorded_at ~ "' as timestamp), '"
            ~ incremental_model_sql_hash() ~ "')"
        ) -%}
    {%- endif -%}
{%- endmacro %}


{#-
    For tests: the first period start `model_name` rebuilt in this invocation, as a SQL
    scalar subquery (null when the model was not built incrementally in this invocation:
    treat the whole table as rebuilt).
-#}
{% macro incremental_rebuilt_from(model_name) -%}
    (
        select min(rebuilt_from)
        from audit.dbt_incremental_builds
        where invocation_id = '{{ invocation_id }}'
            and model_name = '{{ model_name }}'
    )
{%- endmacro %}


{#-
    Incremental period marts (fct_neighbourhood_need_capacity_monthly and _weekly,
    fct_activity_pressure_weekly, fct_community_group_quarters): a build deletes the
    periods from the first one to rebuild (the pre-hook incremental_delete_from_first_period)
    and the model selects those periods again (it filters on incremental_period_rebuilt_from(),
    reading back as far as its trailing windows need), appended by dbt.

    The first period to rebuild is the earliest of
    - the first month of the new loads (audit.loads after the mart's last build) of every
      period source in the mart's lineage (found through dbt's graph),
    - the first period each incremental fact in its lineage rebuilt since (their rows in
      audit.dbt_incremental_builds),
    - the mart's latest period (it held the old as-of date) and the period holding the
      as-of date (it may have moved back),
    truncated to the mart's period. The whole table is rebuilt (from 1900-01-01) when the
    mart has no recorded build, a snapshot source in its lineage (a load without periods:
    geography, population, deprivation, practices, providers, activities, grants...) was
    loaded since, its compiled SQL changed (a var or the model itself), or its first period
    is not the spine's (the history starts elsewhere now).
-#}
{% macro incremental_first_period(period) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not is_incremental() -%}
        {{ return(incremental_whole_table()) }}
    {%- endif -%}
    {%- set spine = period_spine(period) -%}
    {%- set lineage = incremental_lineage() -%}
    {%- set ctes -%}
        last_build as (
            select
                max(recorded_at) as recorded_at,
                arg_max(model_sql_hash, recorded_at) as model_sql_hash
            from audit.dbt_incremental_builds
            where model_name = '{{ this.identifier }}'
        ),

        new_loads as (
            select periods
            from audit.loads
            where source in ('{{ lineage.sources | join("', '") }}')
                and loaded_at > (select recorded_at from last_build)
        ),

        candidates as (
            select cast(trim(period) || '-01' as date) as first_date
            from (
                select unnest(string_split(periods, ',')) as period
                from new_loads
                where periods is not null
            ) as new_periods
            union all
            select min(rebuilt_from)
            from audit.dbt_incremental_builds
            where model_name in ('{{ lineage.facts | join("', '") }}')
                and recorded_at > (select recorded_at from last_build)
            union all
            select max({{ spine.key }}) from {{ this }}
            union all
            select max(as_of_date) from {{ ref(spine.model) }}
        ),

        rebuild_all as (
            select (
                (select recorded_at from last_build) is null
                or (select model_sql_hash from last_build)
                    is distinct from '{{ incremental_model_sql_hash() }}'
                or exists (select 1 from new_loads where periods is null or periods = '')
                or (select min({{ spine.key }}) from {{ this }})
                    is distinct from (select min({{ spine.key }}) from {{ ref(spine.model) }})
            ) as flag
        )
    {%- endset -%}
    {{ return(incremental_first_rebuilt(period, ctes)) }}
{%- endmacro %}


{#-
    The first period start to rebuild, as text: `ctes` (the text after `with`) defines
    `candidates` (first_date: dates from which rows may have changed) and `rebuild_all`
    (flag: rebuild the whole table); the earliest candidate truncated to `period`, or
    incremental_whole_table() when the flag is set.
-#}
{% macro incremental_first_rebuilt(period, ctes) -%}
    {%- set query -%}
        with
        {{ ctes }}

        select
            case
                when (select flag from rebuild_all) then {{ incremental_whole_table_sql() }}
                else cast({{ dbt.date_trunc(period, 'min(first_date)') }} as date)
            end as first_rebuilt
        from candidates
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] | string) }}
{%- endmacro %}


{#-
    The `rebuilt_from` that means the table was built whole (first build, full refresh or
    a whole rebuild): a date before any period, as text and as a SQL date.
-#}
{% macro incremental_whole_table() -%}
    {{ return('1900-01-01') }}
{%- endmacro %}

{% macro incremental_whole_table_sql() -%}
    cast('{{ incremental_whole_table() }}' as date)
{%- endmacro %}


{#- The pre-hook of an incremental period mart: record the build, delete the periods rebuilt. -#}
{% macro incremental_delete_from_first_period(period, period_column=none) -%}
    {{ incremental_delete_rebuilt(
        period_column or period_spine(period).key, incremental_first_period(period)
    ) }}
{%- endmacro %}


{#-
    In a period mart's SQL: the first period this build rebuilds, as a SQL date expression
    (the row its pre-hook just recorded; 1900-01-01 when the table is built whole).
-#}
{% macro incremental_period_rebuilt_from() -%}
    {#- a unit test has no `this`: it builds the whole table -#}
    {%- if this is not none and is_incremental() -%}
        {{ incremental_latest_rebuilt_from() }}
    {%- else -%}
        {{ incremental_whole_table_sql() }}
    {%- endif -%}
{%- endmacro %}


{% macro incremental_latest_rebuilt_from() -%}
    (
        select arg_max(rebuilt_from, recorded_at)
        from audit.dbt_incremental_builds
        where model_name = '{{ this.identifier }}'
    )
{%- endmacro %}


{#-
    In a period mart's SQL: `columns` (a list) of the rows this table keeps that match
    `condition` (SQL on this table's columns), in an incremental build; no rows in a whole
    build (the table may not exist yet). For a trailing window over periods before the
    first one rebuilt: those rows were computed the same way by an earlier build.
-#}
{% macro incremental_kept_rows(columns, condition) -%}
    /* kept rows */
    {%- if this is not none and is_incremental() %}
    select {{ columns | join(', ') }}
    from {{ this }}
    where {{ condition }}
    {%- else %}
    select {% for column in columns %}null as {{ column }}{{ ', ' if not loop.last }}{% endfor %}
    where false
    {%- endif %}
    /* end kept rows */
{%- endmacro %}


{#-
    md5 of the model's compiled SQL without the parts that differ between a whole and an
    incremental build (incremental_period_rebuilt_from, incremental_kept_rows) and without
    the database name (the warehouse file's name), so that the hash changes only when the
    model or a var it compiles in changes.
-#}
{% macro incremental_model_sql_hash() -%}
    {%- set code = model.compiled_code or model.raw_code or '' -%}
    {%- set code = code | replace(incremental_latest_rebuilt_from(), '')
        | replace(incremental_whole_table_sql() | trim, '')
        | replace('"' ~ this.database ~ '".', '') -%}
    {%- set code = modules.re.sub(
        '/\\* kept rows \\*/.*?/\\* end kept rows \\*/', '', code, flags=modules.re.S
    ) -%}
    {{- return(local_md5(code)) -}}
{%- endmacro %}


{#-
    The model's lineage from dbt's graph: {'sources': names of the raw tables it reads,
    directly or not, 'facts': incremental models among its ancestors}.
-#}
{% macro incremental_lineage() -%}
    {%- set seen = [model.unique_id] -%}
    {%- for depth in range(30) -%}
        {%- for unique_id in seen[:] -%}
            {%- set node = graph.nodes.get(unique_id) -%}
            {%- if node is not none -%}
                {%- for parent in node.depends_on.nodes if parent not in seen -%}
                    {%- do seen.append(parent) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set sources = [] -%}
    {%- set facts = [] -%}
    {%- for unique_id in seen[1:] -%}
        {%- if unique_id in graph.sources -%}
            {%- do sources.append(graph.sources[unique_id].name) -%}
        {%- elif unique_id in graph.nodes
            and graph.nodes[unique_id].config.materialized == 'incremental' -%}
            {%- do facts.append(graph.nodes[unique_id].alias) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'sources': sources | sort, 'facts': facts | sort}) }}
{%- endmacro %}
