{#-
    What each publisher's data lacks, check by check: one row per publisher (a funder, by
    funding_org_id, or a directory, by directory_id) and check, counting the publisher's
    records that fail it. The checks are declared once, here, with the words a funder or a
    council reads (check_title, check_description, how_to_fix); the report's Methods page
    and the file written beside the report show these rows as they are.
-#}
{%- set checks = [
    {
        "publisher_kind": "funder",
        "check_code": "grant_without_beneficiary_location",
        "check_title": "No beneficiary location",
        "failing": "cardinality(beneficiary_area_codes) = 0",
        "check_description": "Grants without a beneficiary location code: they are placed where the recipient's activities run or where it is based, not where the grant benefits.",
        "how_to_fix": "Publish Beneficiary Location:Geographic Code (an ONS code of the ward, local authority or other area the grant benefits) with Beneficiary Location:Geographic Code Type.",
    },
    {
        "publisher_kind": "funder",
        "check_code": "grant_without_planned_dates",
        "check_title": "No planned dates",
        "failing": "period_basis <> 'published'",
        "check_description": "Grants without planned start and end dates: the period they fund is estimated (from the planned duration, else a default period from the award date).",
        "how_to_fix": "Publish Planned Dates:Start Date and Planned Dates:End Date.",
    },
    {
        "publisher_kind": "funder",
        "check_code": "grant_with_unknown_programme",
        "check_title": "Programme says nothing of purpose",
        "failing": "funding_purpose = 'unknown'",
        "check_description": "Grants whose programme says nothing of what the money is for (core costs, a project, or a contract to take social prescribing referrals).",
        "how_to_fix": "Publish Grant Programme:Title naming the programme (or ask the ICB to add a rule for your programme titles to its grant_programme_purposes mapping).",
    },
    {
        "publisher_kind": "funder",
        "check_code": "grant_recipient_not_in_any_directory",
        "check_title": "Recipient in no directory",
        "failing": "not is_recipient_in_directory",
        "check_description": "Grants whose recipient matches no organisation in any loaded directory (by org-id, charity number, company number or name): the money counts, but not against the recipient's activities.",
        "how_to_fix": "Publish Recipient Org:Identifier as a registered org-id (GB-CHC-, GB-COH-...) with the charity and company numbers; the recipient may also be missing from the local directory.",
    },
    {
        "publisher_kind": "directory",
        "check_code": "service_without_location",
        "check_title": "No location",
        "failing": "venue_placement = 'publisher_area'",
        "check_description": "Services published with no location (or unusable coordinates): counted in the directory's local authority, not the neighbourhood where they run.",
        "how_to_fix": "Publish each service's location with latitude and longitude (service_at_locations, location).",
    },
    {
        "publisher_kind": "directory",
        "check_code": "service_without_category",
        "check_title": "No category",
        "failing": "category_basis = 'unmapped'",
        "check_description": "Services whose category is neither published nor given by a taxonomy term the ICB's mapping knows: counted as 'other'.",
        "how_to_fix": "Tag each service with taxonomy terms (service_taxonomys / attributes), or ask the ICB to add a rule to its activity_taxonomy_categories mapping.",
    },
    {
        "publisher_kind": "directory",
        "check_code": "service_without_schedule",
        "check_title": "No schedule",
        "failing": "sessions_per_week is null",
        "check_description": "Services without a schedule: how often they run is unknown, so their weekly places are unknown.",
        "how_to_fix": "Publish regular_schedules (frequency, days, opening times) for each service.",
    },
    {
        "publisher_kind": "directory",
        "check_code": "service_without_capacity",
        "check_title": "No capacity",
        "failing": "places_per_session is null",
        "check_description": "Services without a capacity: their places are unknown (never counted as none).",
        "how_to_fix": "Publish service_capacity (available and maximum places, with the unit) as HSDS 3.1 defines it.",
    },
    {
        "publisher_kind": "directory",
        "check_code": "service_not_updated_for_a_year",
        "check_title": "Not updated for a year",
        "failing": "record_updated_date is null or record_updated_date < " ~ dbt.dateadd("day", -365, "as_of_date"),
        "check_description": "Services not updated in the year to the as-of date (or with no update date): they may have changed or stopped.",
        "how_to_fix": "Review each service at least once a year and publish its last_updated date.",
    },
] -%}
with

funding as (

    select * from {{ ref('stg_community__provider_funding') }}

),

grants_in_directories as (

    select distinct grant_id from {{ ref('int_grants_matched_to_providers') }}

),

activities as (

    select * from {{ ref('stg_community__activities') }}

),

as_of as (

    select {{ spine_as_of_date() }} as as_of_date

),

funder_records as (

    select
        'funder' as publisher_kind,
        funding.funding_org_id as publisher_id,
        mode(funding.funding_org_name) over (partition by funding.funding_org_id)
            as publisher_name,
        funding.beneficiary_area_codes,
        funding.period_basis,
        funding.funding_purpose,
        grants_in_directories.grant_id is not null as is_recipient_in_directory,
        as_of.as_of_date
    from funding
    cross join as_of
    left join grants_in_directories
        on funding.grant_id = grants_in_directories.grant_id

),

directory_records as (

    select
        'directory' as publisher_kind,
        coalesce(activities.directory_id, 'directory files') as publisher_id,
        coalesce(activities.directory_id, 'directory files') as publisher_name,
        activities.venue_placement,
        activities.category_basis,
        activities.sessions_per_week,
        activities.places_per_session,
        activities.record_updated_date,
        as_of.as_of_date
    from activities
    cross join as_of

),

checked as (

    {%- for check in checks %}
    select
        publisher_kind,
        publisher_id,
        any_value(publisher_name) as publisher_name,
        '{{ check.check_code }}' as check_code,
        '{{ check.check_title }}' as check_title,
        '{{ check.check_description | replace("'", "''") }}' as check_description,
        '{{ check.how_to_fix | replace("'", "''") }}' as how_to_fix,
        count(*) as records_count,
        count(case when {{ check.failing }} then 1 end) as records_failing_count,
        any_value(as_of_date) as as_of_date
    from {{ check.publisher_kind }}_records
    group by publisher_kind, publisher_id
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        -- ids
        cast(publisher_kind as varchar) as publisher_kind,
        cast(publisher_id as varchar) as publisher_id,
        cast(check_code as varchar) as check_code,

        -- labels
        cast(publisher_name as varchar) as publisher_name,
        cast(check_title as varchar) as check_title,
        cast(check_description as varchar) as check_description,
        cast(how_to_fix as varchar) as how_to_fix,

        -- counts
        cast(records_count as bigint) as records_count,
        cast(records_failing_count as bigint) as records_failing_count,
        cast(round(100.0 * records_failing_count / records_count, 1) as double)
            as records_failing_pct,

        -- dates
        cast(as_of_date as date) as as_of_date

    from checked

)

select * from final
