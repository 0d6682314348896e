with

practices as (

    select * from {{ ref('stg_reference__practices') }}

),

lsoas as (

    select * from {{ ref('int_lsoas_mapped_to_neighbourhoods') }}

),

practice_totals as (

    select
        pcn_code,
        min(pcn_name) as pcn_name,
        count(*) as practices_count,
        sum(registered_patients) as registered_patients
    from practices
    where pcn_code is not null
    group by pcn_code

),

assigned_totals as (

    select
        pcn_code,
        count(*) as lsoas_assigned_count,
        sum(population_total) as population_assigned_total
    from lsoas
    group by pcn_code

),

final as (

    select
        -- ids
        cast(practice_totals.pcn_code as varchar) as pcn_code,

        -- names
        cast(practice_totals.pcn_name as varchar) as pcn_name,

        -- size
        cast(practice_totals.practices_count as bigint) as practices_count,
        cast(practice_totals.registered_patients as bigint) as registered_patients,
        cast(coalesce(assigned_totals.lsoas_assigned_count, 0) as bigint) as lsoas_assigned_count,
        cast(coalesce(assigned_totals.population_assigned_total, 0) as bigint)
            as population_assigned_total

    from practice_totals
    left join assigned_totals
        on practice_totals.pcn_code = assigned_totals.pcn_code

)

select * from final
