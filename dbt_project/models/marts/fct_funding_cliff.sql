{#-
    Funding cliff on the as-of date, per neighbourhood and provider: the provider's current
    funding (as a yearly rate) by how soon it is planned to end, shared among the
    neighbourhoods where it runs activities in proportion to their weekly places, and the
    weekly places that would be left with no funding. See the marts yml for each formula.
-#}
with

providers as (

    select * from {{ ref('dim_providers') }}

),

activities as (

    select * from {{ ref('dim_activities') }}

),

grants as (

    select * from {{ ref('fct_provider_funding') }}

),

-- current grants by provider, as yearly rates (amount a day x 365)
provider_funding as (

    select
        provider_id,
        count(*) as grants_current_count,
        365 * sum(amount_per_day_gbp) as current_funding_per_year_gbp,
        {%- for months_ahead in [3, 6, 12] %}
        365 * coalesce(sum(
            case when is_ending_within_{{ months_ahead }}_months then amount_per_day_gbp end
        ), 0) as ending_{{ months_ahead }}m_funding_per_year_gbp,
        {%- endfor %}
        min(planned_end_date) as first_planned_end_date,
        max(planned_end_date) as last_planned_end_date
    from grants
    where is_current
    group by provider_id

),

-- where the provider's places are: venues of activities running on the as-of date
provider_places as (

    select
        provider_id,
        neighbourhood_code,
        sum(weekly_places) as weekly_places
    from activities
    where is_active_at_as_of
        and neighbourhood_code is not null
    group by provider_id, neighbourhood_code

),

-- a provider with current funding but no running activity stays where it is based
placements as (

    select
        provider_places.provider_id,
        provider_places.neighbourhood_code,
        provider_places.weekly_places,
        provider_places.weekly_places
        / nullif(sum(provider_places.weekly_places) over (
            partition by provider_places.provider_id
        ), 0) as funding_share
    from provider_places
    union all
    select
        provider_funding.provider_id,
        providers.neighbourhood_code,
        0 as weekly_places,
        1 as funding_share
    from provider_funding
    inner join providers
        on provider_funding.provider_id = providers.provider_id
    where provider_funding.provider_id not in (select provider_id from provider_places)
        and providers.neighbourhood_code is not null

),

final as (

    select
        -- grain
        cast(placements.neighbourhood_code as varchar) as neighbourhood_code,
        cast(placements.provider_id as varchar) as provider_id,

        -- provider
        cast(providers.provider_name as varchar) as provider_name,
        cast(providers.provider_type as varchar) as provider_type,
        cast({{ spine_as_of_date() }} as date) as as_of_date,

        -- places
        cast(placements.weekly_places as double) as weekly_places,
        cast(coalesce(placements.funding_share, 0) as double) as funding_share,

        -- funding (the provider's, times funding_share)
        cast(coalesce(provider_funding.grants_current_count, 0) as bigint)
            as provider_grants_current_count,
        cast(
            coalesce(provider_funding.current_funding_per_year_gbp, 0)
            * coalesce(placements.funding_share, 0)
            as double
        ) as current_funding_per_year_gbp,
        {%- for months_ahead in [3, 6, 12] %}
        cast(
            coalesce(provider_funding.ending_{{ months_ahead }}m_funding_per_year_gbp, 0)
            * coalesce(placements.funding_share, 0)
            as double
        ) as funding_ending_{{ months_ahead }}m_per_year_gbp,
        {%- endfor %}
        cast(provider_funding.first_planned_end_date as date) as first_planned_end_date,
        cast(provider_funding.last_planned_end_date as date) as last_planned_end_date,

        -- places left with no funding when the grants end
        cast(provider_funding.provider_id is null as boolean) as has_no_current_funding,
        {%- for months_ahead in [3, 6, 12] %}
        cast(
            case
                when provider_funding.provider_id is null then 0
                when provider_funding.ending_{{ months_ahead }}m_funding_per_year_gbp
                    >= provider_funding.current_funding_per_year_gbp - 1e-9
                    then placements.weekly_places
                else 0
            end
            as double
        ) as weekly_places_losing_all_funding_{{ months_ahead }}m{{ ',' if not loop.last }}
        {%- endfor %}

    from placements
    inner join providers
        on placements.provider_id = providers.provider_id
    left join provider_funding
        on placements.provider_id = provider_funding.provider_id

)

select * from final
