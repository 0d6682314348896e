{#- Activities running at any point in each month: see macro activities_active_in. -#}
{{ activities_active_in('month') }}
