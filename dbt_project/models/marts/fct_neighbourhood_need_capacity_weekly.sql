{#- Body in macro neighbourhood_need_capacity (shared with the monthly mart). -#}
{{ neighbourhood_need_capacity('week') }}
