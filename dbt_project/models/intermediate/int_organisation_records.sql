{#-
    Every record of an organisation the warehouse holds, matched into organisations: grant
    recipients (one record per recipient org-id in stg_community__provider_funding),
    directory organisations (one per provider in stg_community__providers, whose org_id
    falls back to an org-id-shaped provider_id) and activity providers no directory record
    names (none while the activities contract requires a known provider). Two records are one organisation when
    they share an org-id, else a charity number, else a company number (the last two also
    read from GB-CHC / GB-SC / GB-NIC and GB-COH org-ids), else the same normalised name
    (macro normalised_organisation_name) with no charity or company number that differs
    and no two org-ids of one register (GB-CHC, or 360G-<publisher>) that differ;
    matches chain (a recipient and a directory record with the same charity number, and a
    second directory's record of the same name, are one organisation). Grain: record_key.
-#}
{#-
    A table, not a view: the allocation, the grant-to-provider bridge, fct_provider_funding
    and dim_organisations read it, and as a view each would walk the matches again.
-#}
{{ config(materialized='table') }}
{%- set methods = ['org_id', 'charity_number', 'company_number', 'name'] -%}
with recursive

funding as (

    select * from {{ ref('stg_community__provider_funding') }}

),

providers as (

    select * from {{ ref('stg_community__providers') }}

),

activities as (

    select * from {{ ref('stg_community__activities') }}

),

recipients as (

    select
        'grant_recipient' as record_source,
        cast(null as varchar) as directory_id,
        provider_id as source_record_id,
        provider_id as org_id,
        arg_max(recipient_org_name, award_date) as organisation_name,
        arg_max(recipient_charity_number, award_date) as charity_number,
        arg_max(recipient_company_number, award_date) as company_number
    from funding
    where provider_id is not null
    group by provider_id

),

directory_records as (

    select
        'directory' as record_source,
        directory_id,
        provider_id as source_record_id,
        org_id,
        provider_name as organisation_name,
        charity_number,
        company_number
    from providers

),

activity_providers as (

    select distinct
        'activity_provider' as record_source,
        activities.directory_id,
        activities.provider_id as source_record_id,
        cast(null as varchar) as org_id,
        cast(null as varchar) as organisation_name,
        cast(null as varchar) as charity_number,
        cast(null as varchar) as company_number
    from activities
    where activities.provider_id not in (select provider_id from providers)

),

unioned as (

    select * from recipients
    union all
    select * from directory_records
    union all
    select * from activity_providers

),

records as (

    select
        record_source
            || ':' || coalesce(directory_id, '')
            || ':' || source_record_id as record_key,
        record_source,
        directory_id,
        source_record_id,
        organisation_name,
        nullif(upper(trim(org_id)), '') as org_id,
        coalesce(
            nullif(upper(regexp_replace(charity_number, '\s', '', 'g')), ''),
            nullif(regexp_extract(upper(trim(org_id)), '^GB-(CHC|SC|NIC)-(\S+)$', 2), '')
        ) as charity_number,
        coalesce(
            nullif(upper(regexp_replace(company_number, '\s', '', 'g')), ''),
            nullif(regexp_extract(upper(trim(org_id)), '^GB-COH-(\S+)$', 1), '')
        ) as company_number_as_given,
        {{ normalised_organisation_name('organisation_name') }} as normalised_name
    from unioned

),

keyed as (

    select
        * exclude (company_number_as_given),
        -- company numbers are 8 characters; '1234567' is '01234567'
        case
            when regexp_full_match(company_number_as_given, '\d{1,7}')
                then lpad(company_number_as_given, 8, '0')
            else company_number_as_given
        end as company_number,
        -- the org-id's prefix: the register, or for 360G- ids the publisher
        nullif(regexp_extract(org_id, '^([^-]+-[^-]+)-', 1), '') as org_id_register
    from records

),

-- records sharing an org-id, charity or company number: each linked to the group's first
id_keys as (

    {%- for method in methods[:3] %}
    select record_key, '{{ method }}' as match_method, {{ method }} as key_value
    from keyed
    where {{ method }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

id_edges as (

    select
        record_key,
        min(record_key) over (partition by match_method, key_value) as linked_record_key,
        match_method
    from id_keys

),

-- records of the same name whose charity and company numbers do not disagree
name_edges as (

    select
        one.record_key,
        other.record_key as linked_record_key,
        'name' as match_method
    from keyed as one
    inner join keyed as other
        on one.normalised_name = other.normalised_name
        and one.record_key < other.record_key
    where not coalesce(one.charity_number <> other.charity_number, false)
        and not coalesce(one.company_number <> other.company_number, false)
        -- two ids from one register (GB-CHC, 360G-<publisher>) name two organisations
        and not coalesce(
            one.org_id <> other.org_id and one.org_id_register = other.org_id_register, false
        )

),

edges as (

    select record_key, linked_record_key, match_method
    from id_edges
    where record_key <> linked_record_key
    union all
    select record_key, linked_record_key, match_method
    from name_edges

),

both_ways as (

    select record_key, linked_record_key, match_method from edges
    union all
    select linked_record_key, record_key, match_method from edges

),

-- every record reachable from each record through the links (union: each pair once)
reachable(record_key, reached_record_key) as (

    select record_key, record_key from keyed
    union
    select reachable.record_key, both_ways.linked_record_key
    from reachable
    inner join both_ways
        on reachable.reached_record_key = both_ways.record_key

),

components as (

    select
        record_key,
        min(reached_record_key) as component_key
    from reachable
    group by record_key

),

-- each record's strongest link: org-id before charity before company number before name
record_methods as (

    select
        record_key,
        min(case match_method
            {%- for method in methods %}
            when '{{ method }}' then {{ loop.index }}
            {%- endfor %}
        end) as method_rank
    from both_ways
    group by record_key

),

organisation_ids as (

    select
        components.component_key,
        coalesce(
            min(case when keyed.org_id not like '360G-%' then keyed.org_id end),
            min(keyed.org_id),
            min(keyed.record_key)
        ) as organisation_id
    from components
    inner join keyed
        on components.record_key = keyed.record_key
    group by components.component_key

),

final as (

    select
        keyed.record_key,
        organisation_ids.organisation_id,
        keyed.record_source,
        keyed.directory_id,
        keyed.source_record_id,
        keyed.org_id,
        keyed.charity_number,
        keyed.company_number,
        keyed.organisation_name,
        keyed.normalised_name,
        coalesce(
            case record_methods.method_rank
                {%- for method in methods %}
                when {{ loop.index }} then '{{ method }}'
                {%- endfor %}
            end,
            'unmatched'
        ) as match_method,
        record_methods.method_rank
    from keyed
    inner join components
        on keyed.record_key = components.record_key
    inner join organisation_ids
        on components.component_key = organisation_ids.component_key
    left join record_methods
        on keyed.record_key = record_methods.record_key

)

select * from final
