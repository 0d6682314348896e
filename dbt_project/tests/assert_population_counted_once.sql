{#-
    No resident is counted twice or lost at any neighbourhood level: the population summed
    over dim_neighbourhoods, and over dim_lsoas, equals the population of the LSOAs in the
    geography lookup. Returns a row when they differ.
-#}
with

neighbourhoods as (

    select * from {{ ref('dim_neighbourhoods') }}

),

lsoas as (

    select * from {{ ref('dim_lsoas') }}

),

geography as (

    select * from {{ ref('stg_reference__geography') }}

),

population as (

    select * from {{ ref('stg_reference__population') }}

),

totals as (

    select
        (select coalesce(sum(population_total), 0) from neighbourhoods)
            as neighbourhoods_population,
        (select coalesce(sum(population_total), 0) from lsoas) as lsoas_population,
        (
            select coalesce(sum(population.population_total), 0)
            from geography
            inner join population
                on geography.lsoa_code = population.lsoa_code
        ) as geography_population

),

final as (

    select * from totals
    where neighbourhoods_population != geography_population
        or lsoas_population != geography_population

)

select * from final
