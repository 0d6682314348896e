{#- Activities running at any point in each ISO week: see macro activities_active_in. -#}
{{ activities_active_in('week') }}
