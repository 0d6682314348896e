{#- Grants spread per day and cut into calendar quarters: see macro funding_spread_over. -#}
{{ funding_spread_over('quarter') }}
