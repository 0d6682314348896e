{#- Body in macro neighbourhood_need_capacity (shared with the weekly mart). -#}

{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        pre_hook="{{ incremental_delete_from_first_period('month') }}",
        post_hook="{{ neighbourhood_link_workers_update('month') }}",
    )
}}
{{ neighbourhood_need_capacity('month') }}
