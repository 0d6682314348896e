{#- Grants spread per day and cut into ISO weeks: see macro funding_spread_over. -#}
{{ funding_spread_over('week') }}
