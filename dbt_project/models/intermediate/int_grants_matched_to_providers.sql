{#-
    Each grant matched to the directory records of its recipient organisation
    (int_organisation_records), so that provider-level marts count the grants of a
    recipient whose org-id differs from the directory's id for it. A recipient found in
    several directory records shares each grant among them equally (provider_share), so
    that a grant counts once. A recipient in no directory has no row. Grain: grant_id x
    directory_id x provider_id.
-#}
with

funding as (

    select * from {{ ref('stg_community__provider_funding') }}

),

organisation_records as (

    select * from {{ ref('int_organisation_records') }}

),

matched as (

    select
        funding.grant_id,
        recipient.organisation_id,
        directory_records.directory_id,
        directory_records.source_record_id as provider_id
    from funding
    inner join organisation_records as recipient
        on recipient.record_source = 'grant_recipient'
        and funding.provider_id = recipient.source_record_id
    inner join organisation_records as directory_records
        on recipient.organisation_id = directory_records.organisation_id
        and directory_records.record_source = 'directory'

),

final as (

    select
        grant_id,
        organisation_id,
        directory_id,
        provider_id,
        1.0 / count(*) over (partition by grant_id) as provider_share
    from matched

)

select * from final
