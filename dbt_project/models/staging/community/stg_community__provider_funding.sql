{#-
    One row per grant as its funder published it, with the funded period resolved (published
    planned dates, else the planned duration, else the award date and the default period)
    and the purpose from the editable mapping seeds/grant_programme_purposes.csv.
-#}
with

source as (

    select * from {{ source('raw', 'provider_funding') }}

),

rules as (

    select * from {{ ref('grant_programme_purposes') }}

),

-- the best rule for each grant: a programme title match before a grant title match, then
-- the lowest priority
purposes as (

    select
        source._load_id,
        source._row_number,
        arg_min(
            rules.funding_purpose,
            case
                when regexp_matches(coalesce(source.grant_programme_title, ''), rules.pattern, 'i')
                    then 0
                else 1
            end * 1000000 + rules.priority
        ) as funding_purpose,
        min(
            case
                when regexp_matches(coalesce(source.grant_programme_title, ''), rules.pattern, 'i')
                    then 'programme'
                else 'title'
            end
        ) as funding_purpose_matched_on

    from source
    inner join rules
        on regexp_matches(coalesce(source.grant_programme_title, ''), rules.pattern, 'i')
        or regexp_matches(coalesce(source.title, ''), rules.pattern, 'i')
    group by source._load_id, source._row_number

),

periods as (

    select
        source.*,
        coalesce(
            source.planned_start_date,
            case
                when source.planned_end_date is not null
                    and source.planned_duration_months is not null
                    then {{ add_months_fractional('source.planned_end_date', '-source.planned_duration_months') }} + 1
            end,
            least(source.award_date, coalesce(source.planned_end_date, source.award_date))
        ) as resolved_start_date

    from source

),

resolved as (

    select
        *,
        greatest(
            resolved_start_date,
            coalesce(
                planned_end_date,
                {{ add_months_fractional('resolved_start_date', 'coalesce(planned_duration_months, ' ~ var('default_grant_period_months') ~ ')') }}
                - 1
            )
        ) as resolved_end_date,
        case
            when planned_start_date is not null and planned_end_date is not null then 'published'
            when planned_duration_months is not null then 'duration'
            else 'default'
        end as period_basis

    from periods

),

renamed as (

    select
        -- ids
        resolved.grant_id,
        resolved.recipient_org_id as provider_id,
        resolved.recipient_charity_number,
        resolved.recipient_company_number,
        resolved.funding_org_id,

        -- grant
        resolved.title as grant_title,
        resolved.recipient_org_name,
        resolved.funding_org_name,
        resolved.grant_programme_title,
        coalesce(purposes.funding_purpose, 'unknown') as funding_purpose,
        coalesce(purposes.funding_purpose_matched_on, 'no_rule') as funding_purpose_matched_on,

        -- where it benefits
        case
            when resolved.beneficiary_area_codes is null then cast([] as varchar[])
            else string_split(resolved.beneficiary_area_codes, ';')
        end as beneficiary_area_codes,
        coalesce(resolved.beneficiary_locations_without_code, 0)
            as beneficiary_locations_without_code,

        -- money
        resolved.currency,
        resolved.amount_awarded_gbp,
        resolved.amount_awarded_gbp
            / ({{ dbt.datediff('resolved.resolved_start_date', 'resolved.resolved_end_date', 'day') }} + 1)
            as amount_per_day_gbp,

        -- dates
        resolved.award_date,
        resolved.resolved_start_date as planned_start_date,
        resolved.resolved_end_date as planned_end_date,
        {{ dbt.datediff('resolved.resolved_start_date', 'resolved.resolved_end_date', 'day') }} + 1
            as planned_days,
        resolved.period_basis <> 'published' as is_period_estimated,
        resolved.period_basis,
        resolved.planned_start_date as published_planned_start_date,
        resolved.planned_end_date as published_planned_end_date,
        resolved.planned_duration_months as published_planned_duration_months,

        -- load metadata
        resolved._loaded_at as loaded_at,
        resolved._source_file as source_file

    from resolved
    left join purposes
        on resolved._load_id = purposes._load_id
        and resolved._row_number = purposes._row_number

)

select * from renamed
