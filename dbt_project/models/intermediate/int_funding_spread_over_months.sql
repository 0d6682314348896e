{#- Grants spread per day and cut into months: see macro funding_spread_over. -#}
{{ funding_spread_over('month') }}
