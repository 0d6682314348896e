{#-
    Each LSOA of the geography lookup assigned to one PCN, in this order of preference:
    1. referrals: the PCN whose practices made most of the referrals of the LSOA's residents
       (ties to the lower PCN code);
    2. practice location: the PCN with most practices whose main surgery is in the LSOA;
    3. the PCN with most practices in the LSOA's MSOA, then in its local authority;
    4. the PCN with most practices in the ICB.
    assignment_method says which rule placed the LSOA.
-#}
with

geography as (

    select * from {{ ref('stg_reference__geography') }}

),

practices as (

    select * from {{ ref('stg_reference__practices') }}

),

referrals as (

    select * from {{ ref('stg_social_prescribing__referrals') }}

),

pcns as (

    select
        pcn_code,
        min(pcn_name) as pcn_name
    from practices
    where pcn_code is not null
    group by pcn_code

),

practices_located as (

    select
        practices.pcn_code,
        geography.lsoa_code,
        geography.msoa_code,
        geography.lad_code,
        geography.icb_code
    from practices
    inner join geography
        on practices.lsoa_code = geography.lsoa_code
    where practices.pcn_code is not null

),

by_referrals as (

    select
        referrals.lsoa_code,
        practices.pcn_code,
        1 as preference,
        'referrals' as assignment_method,
        count(*) as weight
    from referrals
    inner join practices
        on referrals.practice_code = practices.practice_code
    where practices.pcn_code is not null
    group by referrals.lsoa_code, practices.pcn_code

),

by_lsoa as (

    select
        lsoa_code,
        pcn_code,
        2 as preference,
        'practice_in_lsoa' as assignment_method,
        count(*) as weight
    from practices_located
    group by lsoa_code, pcn_code

),

{%- for area, preference in [('msoa', 3), ('lad', 4)] %}

by_{{ area }} as (

    select
        geography.lsoa_code,
        practices_located.pcn_code,
        {{ preference }} as preference,
        'practice_in_{{ 'msoa' if area == 'msoa' else 'local_authority' }}' as assignment_method,
        count(*) as weight
    from geography
    inner join practices_located
        on geography.{{ area }}_code = practices_located.{{ area }}_code
    group by geography.lsoa_code, practices_located.pcn_code

),
{%- endfor %}

-- one PCN for the whole ICB: the one with most practices (ties to the lower code)
largest_pcn as (

    select pcn_code
    from practices
    where pcn_code is not null
    group by pcn_code
    order by count(*) desc, pcn_code
    limit 1

),

by_icb as (

    select
        geography.lsoa_code,
        largest_pcn.pcn_code,
        5 as preference,
        'largest_pcn' as assignment_method,
        1 as weight
    from geography
    cross join largest_pcn

),

candidates as (

    select * from by_referrals
    union all
    select * from by_lsoa
    union all
    select * from by_msoa
    union all
    select * from by_lad
    union all
    select * from by_icb

),

ranked as (

    select
        candidates.*,
        row_number() over (
            partition by candidates.lsoa_code
            order by candidates.preference, candidates.weight desc, candidates.pcn_code
        ) as candidate_order
    from candidates
    inner join geography
        on candidates.lsoa_code = geography.lsoa_code

),

final as (

    select
        ranked.lsoa_code,
        ranked.pcn_code,
        pcns.pcn_name,
        ranked.assignment_method
    from ranked
    inner join pcns
        on ranked.pcn_code = pcns.pcn_code
    where ranked.candidate_order = 1

)

select * from final
