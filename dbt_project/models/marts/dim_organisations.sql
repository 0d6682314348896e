{#-
    One row per organisation, whichever way the warehouse met it: as a grant recipient, a
    directory organisation or an activity provider, matched across them by org-id, charity
    number, company number and normalised name (int_organisation_records), so that a grant
    to a group missing from every directory still counts, and a group both funded and in a
    directory is one row. Formulas in the marts yml.
-#}
with

records as (

    select * from {{ ref('int_organisation_records') }}

),

funding as (

    select * from {{ ref('stg_community__provider_funding') }}

),

activities as (

    select * from {{ ref('stg_community__activities') }}

),

grants_by_organisation as (

    select
        records.organisation_id,
        count(*) as grants_count,
        sum(funding.amount_awarded_gbp) as amount_awarded_gbp
    from funding
    inner join records
        on records.record_source = 'grant_recipient'
        and funding.provider_id = records.source_record_id
    group by records.organisation_id

),

activities_by_organisation as (

    select
        records.organisation_id,
        count(*) as activities_count
    from activities
    inner join records
        on records.record_source in ('directory', 'activity_provider')
        and activities.provider_id = records.source_record_id
    group by records.organisation_id

),

aggregated as (

    select
        organisation_id,
        -- the directory's name first, then the latest grant's
        arg_min(
            organisation_name,
            case record_source when 'directory' then 1 when 'grant_recipient' then 2 else 3 end
        ) as organisation_name,
        string_agg(distinct org_id, ';' order by org_id) as org_ids,
        min(charity_number) as charity_number,
        min(company_number) as company_number,
        max(method_rank) as weakest_method_rank,
        count(*) as records_count,
        count(case when record_source = 'directory' then 1 end) as directory_records_count,
        count(distinct case when record_source = 'directory' then coalesce(directory_id, '') end)
            as directories_count,
        bool_or(record_source = 'grant_recipient') as is_grant_recipient,
        bool_or(record_source = 'directory') as is_in_directory
    from records
    group by organisation_id

),

final as (

    select
        -- ids
        cast(aggregated.organisation_id as varchar) as organisation_id,
        cast(aggregated.org_ids as varchar) as org_ids,
        cast(aggregated.charity_number as varchar) as charity_number,
        cast(aggregated.company_number as varchar) as company_number,

        -- organisation
        cast(aggregated.organisation_name as varchar) as organisation_name,
        cast(
            case
                when aggregated.records_count = 1 then 'single_record'
                {%- for method in ['org_id', 'charity_number', 'company_number', 'name'] %}
                when aggregated.weakest_method_rank = {{ loop.index }} then '{{ method }}'
                {%- endfor %}
            end
            as varchar
        ) as match_method,

        -- where the warehouse met it
        cast(aggregated.records_count as bigint) as records_count,
        cast(aggregated.directory_records_count as bigint) as directory_records_count,
        cast(aggregated.directories_count as bigint) as directories_count,
        cast(aggregated.is_grant_recipient as boolean) as is_grant_recipient,
        cast(aggregated.is_in_directory as boolean) as is_in_directory,

        -- grants and activities
        cast(coalesce(grants_by_organisation.grants_count, 0) as bigint) as grants_count,
        cast(coalesce(grants_by_organisation.amount_awarded_gbp, 0) as double)
            as amount_awarded_gbp,
        cast(coalesce(activities_by_organisation.activities_count, 0) as bigint)
            as activities_count

    from aggregated
    left join grants_by_organisation
        on aggregated.organisation_id = grants_by_organisation.organisation_id
    left join activities_by_organisation
        on aggregated.organisation_id = activities_by_organisation.organisation_id

)

select * from final
