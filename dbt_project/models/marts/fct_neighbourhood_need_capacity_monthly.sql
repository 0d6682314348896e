{#- Body in macro neighbourhood_need_capacity (shared with the weekly mart). -#}
{{ neighbourhood_need_capacity('month') }}
