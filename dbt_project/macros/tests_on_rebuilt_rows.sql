{#-
    Tests on rebuilt rows: in a build that rebuilt an incremental model from a period on (a
    weekly build rebuilds the months the week's files touch), a generic data test on that
    model reads only the rows from that period on. The rows before it are the ones the
    previous build wrote and tested, unchanged since (the pre-hook deletes from the first
    rebuilt month on; the loader's later file replaces whole months, and a replaced month is
    always rebuilt). The model is tested whole when it was built whole (first build,
    --full-refresh, or incremental_first_month chose 1900-01-01), when it was not built in
    this invocation (`dbt test` on its own, or a build that did not select it), and always
    for singular tests (tests/*.sql: the reconciliations compare whole tables, and a
    reconciliation of one month would hide an older month that stopped adding up).

    dbt wraps the model argument of every generic test in get_where_subquery (the documented
    hook for templating a test's `where` config); this override keeps the `where` config and
    adds the rebuilt-rows filter. Which tests it may narrow follows from what a test's verdict
    on an old row depends on:
    - row tests (not_null, accepted_values, accepted_range, expression_is_true): the row
      alone, so the old rows' verdict cannot have changed. expression_is_true expressions
      must therefore be about the row (no subquery over other rows).
    - unique, unique_combination_of_columns: other rows too. A new row can take a key an old
      month already holds (a referral_id sent again with a corrected date in another month:
      the loader replaces months, not keys), so the test reads the rows whose key occurs in
      the rebuilt rows: every duplicate that involves a rebuilt row, and none of the pairs of
      old rows, already tested (a semi-join: it still scans the key of the whole table, but
      aggregates only the rebuilt keys; at England about 5 times cheaper than whole).
    - relationships: the parent table. Restricted to the rebuilt child rows only when the
      parent is rebuilt whole from snapshot sources (a dimension): a fact is rebuilt whole
      whenever a snapshot it takes codes from was loaded after it, or its codes went stale
      (incremental_first_month), so a parent key cannot disappear under old rows without
      the fact being tested whole. When the parent is itself incremental (onward referrals
      to referrals) its rows from the rebuilt months were replaced, possibly under old child
      rows: tested whole.
    - any other generic test: whole (unknown, so the safe side).
    After changing a test (a new rule for old rows), run `dbt test` or a --full-refresh
    build once: both test whole.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set rebuilt = rebuilt_rows_filter(relation) -%}
    {%- if where and rebuilt -%}
        {%- set filtered -%}
            (select * from {{ relation }} as tested where ({{ where }}) and {{ rebuilt }}) dbt_subquery
        {%- endset -%}
    {%- elif rebuilt -%}
        {%- set filtered -%}
            (select * from {{ relation }} as tested where {{ rebuilt }}) dbt_subquery
        {%- endset -%}
    {%- elif where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
    {%- else -%}
        {%- set filtered = relation -%}
    {%- endif -%}
    {% do return(filtered) %}
{%- endmacro %}


{#-
    The condition (on the tested relation, aliased `tested`) that keeps the rows a generic
    test reads to those rebuilt in this invocation, or '' to test the whole relation.
-#}
{% macro rebuilt_rows_filter(relation) -%}
    {%- set row_tests = ['not_null', 'accepted_values', 'accepted_range', 'expression_is_true'] -%}
    {%- set key_tests = ['unique', 'unique_combination_of_columns'] -%}
    {%- if not execute or model.resource_type != 'test' or not model.test_metadata -%}
        {{ return('') }}
    {%- endif -%}
    {%- set test_name = model.test_metadata.name -%}
    {%- set arguments = model.test_metadata.kwargs -%}
    {%- if test_name not in row_tests + key_tests + ['relationships'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.attached_node) if model.attached_node else none -%}
    {%- if tested is none or tested.config.materialized != 'incremental' -%}
        {{ return('') }}
    {%- endif -%}
    {%- if test_name == 'relationships' -%}
        {%- set parents = model.depends_on.nodes | reject('equalto', model.attached_node) -%}
        {%- for parent in parents -%}
            {%- set parent_node = graph.nodes.get(parent) -%}
            {%- if parent_node is none or parent_node.config.materialized == 'incremental' -%}
                {{ return('') }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set rebuilt = rebuilt_in_this_invocation(relation) -%}
    {%- if rebuilt is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set period_filter -%}
        {{ adapter.quote(rebuilt.period_column) }} >= cast('{{ rebuilt.rebuilt_from }}' as date)
    {%- endset -%}
    {%- if test_name in key_tests -%}
        {%- if test_name == 'unique' -%}
            {%- set key = [arguments.column_name] -%}
        {%- else -%}
            {%- set key = arguments.combination_of_columns -%}
        {%- endif -%}
        {%- set key_filter -%}
            exists (
                select 1 from {{ relation }} as rebuilt
                where rebuilt.{{ period_filter }}
                {%- for column in key %}
                    and rebuilt.{{ column }} is not distinct from tested.{{ column }}
                {%- endfor %}
            )
        {%- endset -%}
        {{ return(key_filter) }}
    {%- endif -%}
    {{ return(period_filter) }}
{%- endmacro %}


{#-
    {'period_column': ..., 'rebuilt_from': 'YYYY-MM-DD'} when this invocation rebuilt
    `relation` from a period on (audit.dbt_incremental_builds, written by the incremental
    models: macros/incremental.sql), none when it was built whole or not at all.
-#}
{% macro rebuilt_in_this_invocation(relation) -%}
    {%- set audit = adapter.get_relation(
        database=target.database, schema='audit', identifier='dbt_incremental_builds'
    ) -%}
    {%- if audit is none -%}
        {{ return(none) }}
    {%- endif -%}
    {#- the earliest, as incremental_rebuilt_from (which gives the date as a SQL subquery;
        the period column is needed here, to write the filter) -#}
    {%- set query -%}
        select period_column, cast(min(rebuilt_from) as varchar) as rebuilt_from
        from {{ audit }}
        where invocation_id = '{{ invocation_id }}'
            and model_name = '{{ relation.identifier }}'
        group by period_column
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- if rows | length != 1 or rows[0][1] is none or rows[0][1] <= incremental_whole_table() -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return({'period_column': rows[0][0], 'rebuilt_from': rows[0][1]}) }}
{%- endmacro %}
