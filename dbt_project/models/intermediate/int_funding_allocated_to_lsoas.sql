{#-
    Every grant placed where it benefits, by the first of three methods that can place it:

    1. beneficiary_area: the areas its beneficiary locations name (int_lsoas_in_areas: any
       LSOA, MSOA, ward, local authority, sub-ICB location, ICB, region or England code).
       The grant is spread over the people living in all the named areas together, by
       population: each LSOA of their union gets amount x its population / the union's
       population (an LSOA named twice, as in a ward and its borough, counts once; so two
       named areas share the grant in proportion to their populations). The union's
       population is England's, so an area partly outside the ICB gives the ICB only the
       share of its people living inside. Codes that name no known area are left out; a
       grant none of whose codes names a known area goes to the next method.
    2. activities: where the recipient organisation (int_organisation_records: the same
       organisation in any directory) runs activities, weighted by weekly places; an
       activity whose places are unknown weighs the mean of the recipient's activities whose
       places are known, and when none are known every activity weighs the same. Activities
       running at some point of the grant's planned period are used when there are any,
       else all the recipient's activities. An activity placed only in a local authority
       (venue_lad_code) is spread over its LSOAs by population.
    3. recipient_base: the base LSOA of the recipient's directory records (shared equally
       when its records give several).

    A grant that none of them places (a recipient missing from every directory, with no
    beneficiary location) has no row here. One row per grant and LSOA inside the ICB, and
    one row per grant (lsoa_code null, is_in_icb false) for the share outside it. Rows of
    one grant have share_of_grant summing to 1.
-#}
{#-
    A table, not a view: fct_provider_funding and the neighbourhood allocation read it, and
    every money mart through them (a country-wide grant touches every LSOA in England).
-#}
{{ config(materialized='table') }}
with

funding as (

    select * from {{ ref('stg_community__provider_funding') }}

),

areas as (

    select * from {{ ref('int_lsoas_in_areas') }}

),

beneficiary_codes as (

    select * from {{ ref('int_beneficiary_codes_matched_to_areas') }}

),

organisation_records as (

    select * from {{ ref('int_organisation_records') }}

),

providers as (

    select * from {{ ref('stg_community__providers') }}

),

activities as (

    select * from {{ ref('stg_community__activities') }}

),

lsoa_areas as (

    select * from areas
    where area_level = 'lsoa'

),

-- 1. beneficiary locations
beneficiary_lsoas as (

    select distinct
        beneficiary_codes.grant_id,
        areas.lsoa_code,
        areas.neighbourhood_code,
        areas.is_in_icb,
        areas.population_total
    from beneficiary_codes
    inner join areas
        on beneficiary_codes.area_code = areas.area_code

),

beneficiary_candidates as (

    select
        grant_id,
        1 as method_rank,
        lsoa_code,
        neighbourhood_code,
        is_in_icb,
        -- an area with no population loaded: its LSOAs weigh the same
        population_total
        + case when sum(population_total) over (partition by grant_id) = 0 then 1 else 0 end
            as weight
    from beneficiary_lsoas

),

-- 2. the recipient's activities, in any directory holding the recipient organisation
recipient_records as (

    select
        funding.grant_id,
        funding.planned_start_date,
        funding.planned_end_date,
        directory_records.directory_id,
        directory_records.source_record_id as provider_id
    from funding
    inner join organisation_records as recipient
        on recipient.record_source = 'grant_recipient'
        and funding.provider_id = recipient.source_record_id
    inner join organisation_records as directory_records
        on recipient.organisation_id = directory_records.organisation_id
        and directory_records.record_source in ('directory', 'activity_provider')

),

recipient_activities as (

    select
        recipient_records.grant_id,
        activities.activity_id,
        activities.venue_lsoa_code,
        activities.venue_lad_code,
        activities.weekly_places,
        coalesce(activities.start_date <= recipient_records.planned_end_date, true)
        and coalesce(activities.end_date >= recipient_records.planned_start_date, true)
            as runs_in_grant_period
    from recipient_records
    inner join activities
        on recipient_records.provider_id = activities.provider_id
    where activities.venue_lsoa_code is not null
        or activities.venue_lad_code is not null

),

-- activities of the grant's period when there are any
period_activities as (

    select *
    from recipient_activities
    qualify runs_in_grant_period
        or not bool_or(runs_in_grant_period) over (partition by grant_id)

),

weighted_activities as (

    select
        grant_id,
        activity_id,
        venue_lsoa_code,
        venue_lad_code,
        -- unknown places: the mean of the recipient's known ones, else 1 each
        coalesce(weekly_places, avg(weekly_places) over (partition by grant_id), 1)
            as activity_weight
    from period_activities

),

activity_lsoas as (

    -- a venue's own LSOA
    select
        weighted_activities.grant_id,
        weighted_activities.activity_weight,
        weighted_activities.venue_lsoa_code as lsoa_code,
        lsoa_areas.neighbourhood_code,
        coalesce(lsoa_areas.is_in_icb, false) as is_in_icb,
        1.0 as lsoa_share
    from weighted_activities
    left join lsoa_areas
        on weighted_activities.venue_lsoa_code = lsoa_areas.lsoa_code
    where weighted_activities.venue_lsoa_code is not null

    union all

    -- a service placed only in its local authority: the authority's LSOAs by population
    select
        weighted_activities.grant_id,
        weighted_activities.activity_weight,
        areas.lsoa_code,
        areas.neighbourhood_code,
        areas.is_in_icb,
        coalesce(
            areas.population_total
            / nullif(sum(areas.population_total) over (
                partition by weighted_activities.grant_id, weighted_activities.activity_id
            ), 0),
            1.0 / count(*) over (
                partition by weighted_activities.grant_id, weighted_activities.activity_id
            )
        ) as lsoa_share
    from weighted_activities
    inner join areas
        on areas.area_level = 'lad'
        and weighted_activities.venue_lad_code = areas.area_code
    where weighted_activities.venue_lsoa_code is null

),

activity_candidates as (

    select
        grant_id,
        2 as method_rank,
        lsoa_code,
        neighbourhood_code,
        is_in_icb,
        -- all weights 0 (no places anywhere): every activity weighs the same
        case
            when sum(activity_weight) over (partition by grant_id) > 0
                then activity_weight * lsoa_share
            else lsoa_share
        end as weight
    from activity_lsoas

),

-- 3. where the recipient is based
base_candidates as (

    select distinct
        recipient_records.grant_id,
        3 as method_rank,
        providers.base_lsoa_code as lsoa_code,
        lsoa_areas.neighbourhood_code,
        coalesce(lsoa_areas.is_in_icb, false) as is_in_icb,
        1.0 as weight
    from recipient_records
    inner join providers
        on recipient_records.provider_id = providers.provider_id
    left join lsoa_areas
        on providers.base_lsoa_code = lsoa_areas.lsoa_code
    where providers.base_lsoa_code is not null

),

candidates as (

    select * from beneficiary_candidates
    union all
    select * from activity_candidates
    union all
    select * from base_candidates

),

chosen_methods as (

    select
        grant_id,
        min(method_rank) as method_rank
    from (
        select grant_id, method_rank
        from candidates
        group by grant_id, method_rank
        having sum(weight) > 0
    )
    group by grant_id

),

shares as (

    select
        candidates.grant_id,
        candidates.method_rank,
        candidates.lsoa_code,
        candidates.neighbourhood_code,
        candidates.is_in_icb,
        candidates.weight / sum(candidates.weight) over (partition by candidates.grant_id)
            as share_of_grant
    from candidates
    inner join chosen_methods
        on candidates.grant_id = chosen_methods.grant_id
        and candidates.method_rank = chosen_methods.method_rank

),

placed as (

    select
        grant_id,
        method_rank,
        case when is_in_icb then lsoa_code end as lsoa_code,
        case when is_in_icb then neighbourhood_code end as neighbourhood_code,
        is_in_icb,
        sum(share_of_grant) as share_of_grant
    from shares
    group by all

),

final as (

    select
        -- ids
        placed.grant_id,
        placed.lsoa_code,
        placed.neighbourhood_code,

        -- allocation
        case placed.method_rank
            when 1 then 'beneficiary_area'
            when 2 then 'activities'
            when 3 then 'recipient_base'
        end as allocation_method,
        placed.is_in_icb,
        placed.share_of_grant,
        placed.share_of_grant * funding.amount_awarded_gbp as amount_gbp

    from placed
    inner join funding
        on placed.grant_id = funding.grant_id
    where placed.share_of_grant > 0

)

select * from final
