{#-
    Funding cliff on the as-of date, per neighbourhood and provider: the provider's current
    funding (as a yearly rate) in each neighbourhood where it benefits (the grants' placement
    in fct_funding_by_neighbourhood, shared among the recipient's directory records by
    int_grants_matched_to_providers), by how soon it is planned to end, and the weekly places
    the provider runs there that would be left with no funding. See the marts yml for each
    formula.
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

allocated as (

    select * from {{ ref('fct_funding_by_neighbourhood') }}

),

matched_providers as (

    select * from {{ ref('int_grants_matched_to_providers') }}

),

-- current grants' money by provider and neighbourhood, as yearly rates (a day x 365)
neighbourhood_funding as (

    select
        matched_providers.provider_id,
        allocated.neighbourhood_code,
        365 * sum(allocated.amount_per_day_gbp * matched_providers.provider_share)
            as current_funding_per_year_gbp,
        {%- for months_ahead in [3, 6, 12] %}
        365 * coalesce(sum(
            case
                when grants.is_ending_within_{{ months_ahead }}_months
                    then allocated.amount_per_day_gbp * matched_providers.provider_share
            end
        ), 0) as ending_{{ months_ahead }}m_funding_per_year_gbp{{ ',' if not loop.last }}
        {%- endfor %}
    from allocated
    inner join grants
        on allocated.grant_id = grants.grant_id
    inner join matched_providers
        on allocated.grant_id = matched_providers.grant_id
    where grants.is_current
    group by matched_providers.provider_id, allocated.neighbourhood_code

),

-- the same, whole provider
provider_funding as (

    select
        matched_providers.provider_id,
        count(distinct grants.grant_id) as grants_current_count,
        min(grants.planned_end_date) as first_planned_end_date,
        max(grants.planned_end_date) as last_planned_end_date
    from grants
    inner join matched_providers
        on grants.grant_id = matched_providers.grant_id
    where grants.is_current
        and grants.share_inside_icb > 0
    group by matched_providers.provider_id

),

provider_totals as (

    select
        provider_id,
        sum(current_funding_per_year_gbp) as current_funding_per_year_gbp,
        {%- for months_ahead in [3, 6, 12] %}
        sum(ending_{{ months_ahead }}m_funding_per_year_gbp)
            as ending_{{ months_ahead }}m_funding_per_year_gbp{{ ',' if not loop.last }}
        {%- endfor %}
    from neighbourhood_funding
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

-- every neighbourhood where the provider has places or money
placements as (

    select
        coalesce(provider_places.provider_id, neighbourhood_funding.provider_id) as provider_id,
        coalesce(provider_places.neighbourhood_code, neighbourhood_funding.neighbourhood_code)
            as neighbourhood_code,
        coalesce(provider_places.weekly_places, 0) as weekly_places,
        coalesce(neighbourhood_funding.current_funding_per_year_gbp, 0)
            as current_funding_per_year_gbp,
        {%- for months_ahead in [3, 6, 12] %}
        coalesce(neighbourhood_funding.ending_{{ months_ahead }}m_funding_per_year_gbp, 0)
            as ending_{{ months_ahead }}m_funding_per_year_gbp{{ ',' if not loop.last }}
        {%- endfor %}
    from provider_places
    full outer join neighbourhood_funding
        on provider_places.provider_id = neighbourhood_funding.provider_id
        and provider_places.neighbourhood_code = neighbourhood_funding.neighbourhood_code

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
        cast(
            coalesce(
                placements.current_funding_per_year_gbp
                / nullif(provider_totals.current_funding_per_year_gbp, 0),
                0
            )
            as double
        ) as funding_share,

        -- funding placed in the neighbourhood
        cast(coalesce(provider_funding.grants_current_count, 0) as bigint)
            as provider_grants_current_count,
        cast(placements.current_funding_per_year_gbp as double) as current_funding_per_year_gbp,
        {%- for months_ahead in [3, 6, 12] %}
        cast(placements.ending_{{ months_ahead }}m_funding_per_year_gbp as double)
            as funding_ending_{{ months_ahead }}m_per_year_gbp,
        {%- endfor %}
        cast(provider_funding.first_planned_end_date as date) as first_planned_end_date,
        cast(provider_funding.last_planned_end_date as date) as last_planned_end_date,

        -- places left with no funding when the provider's grants end
        cast(provider_funding.provider_id is null as boolean) as has_no_current_funding,
        {%- for months_ahead in [3, 6, 12] %}
        cast(
            case
                when provider_funding.provider_id is null then 0
                when provider_totals.ending_{{ months_ahead }}m_funding_per_year_gbp
                    >= provider_totals.current_funding_per_year_gbp - 1e-9
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
    left join provider_totals
        on placements.provider_id = provider_totals.provider_id

)

select * from final
