{#-
    One row per grant: the recipient organisation (int_organisation_records), how much of
    it benefits inside the ICB and by which method it was placed
    (int_funding_allocated_to_lsoas), and where it stands on the as-of date (current,
    ending within 3, 6 or 12 months).
-#}
with

funding as (

    select * from {{ ref('stg_community__provider_funding') }}

),

organisation_records as (

    select * from {{ ref('int_organisation_records') }}

),

allocated as (

    select * from {{ ref('int_funding_allocated_to_lsoas') }}

),

beneficiary_codes as (

    select * from {{ ref('int_beneficiary_codes_matched_to_areas') }}

),

matched_providers as (

    select * from {{ ref('int_grants_matched_to_providers') }}

),

-- how much of each grant benefits inside the ICB, and by which method it was placed
allocation as (

    select
        grant_id,
        min(allocation_method) as allocation_method,
        sum(case when is_in_icb then share_of_grant else 0 end) as share_inside_icb,
        sum(case when is_in_icb then amount_gbp else 0 end) as amount_inside_icb_gbp
    from allocated
    group by grant_id

),

-- the beneficiary location codes as given, and those that name no known area
area_codes as (

    select
        grant_id,
        string_agg(area_code, ';' order by area_code) as beneficiary_area_codes,
        string_agg(case when not is_matched then area_code end, ';' order by area_code)
            as unmatched_beneficiary_area_codes
    from beneficiary_codes
    group by grant_id

),

in_directory as (

    select distinct grant_id
    from matched_providers

),


final as (

    select
        -- ids
        cast(funding.grant_id as varchar) as grant_id,
        cast(funding.provider_id as varchar) as provider_id,
        cast(recipient.organisation_id as varchar) as organisation_id,
        cast(funding.funding_org_id as varchar) as funding_org_id,

        -- grant
        cast(funding.grant_title as varchar) as grant_title,
        cast(funding.funding_org_name as varchar) as funding_org_name,
        cast(funding.funding_purpose as varchar) as funding_purpose,

        -- money
        cast(funding.amount_awarded_gbp as double) as amount_awarded_gbp,
        cast(funding.amount_per_day_gbp as double) as amount_per_day_gbp,

        -- where it benefits
        cast(coalesce(allocation.allocation_method, 'unallocated') as varchar)
            as allocation_method,
        cast(area_codes.beneficiary_area_codes as varchar) as beneficiary_area_codes,
        cast(area_codes.unmatched_beneficiary_area_codes as varchar)
            as unmatched_beneficiary_area_codes,
        cast(coalesce(allocation.share_inside_icb, 0) as double) as share_inside_icb,
        cast(coalesce(allocation.amount_inside_icb_gbp, 0) as double) as amount_inside_icb_gbp,
        cast(coalesce(allocation.amount_inside_icb_gbp, 0) / funding.planned_days as double)
            as amount_inside_icb_per_day_gbp,
        cast(in_directory.grant_id is not null as boolean) as is_recipient_in_directory,

        -- dates
        cast(funding.award_date as date) as award_date,
        cast(funding.planned_start_date as date) as planned_start_date,
        cast(funding.planned_end_date as date) as planned_end_date,
        cast(funding.planned_days as bigint) as planned_days,
        cast(funding.is_period_estimated as boolean) as is_period_estimated,

        -- standing on the as-of date
        cast(
            funding.planned_start_date <= {{ spine_as_of_date() }}
            and funding.planned_end_date >= {{ spine_as_of_date() }}
            as boolean
        ) as is_current,
        {%- for months_ahead in [3, 6, 12] %}
        cast(
            funding.planned_end_date >= {{ spine_as_of_date() }}
            and funding.planned_end_date
                <= {{ dbt.dateadd('month', months_ahead, spine_as_of_date()) }}
            as boolean
        ) as is_ending_within_{{ months_ahead }}_months,
        {%- endfor %}
        cast({{ spine_as_of_date() }} as date) as as_of_date

    from funding
    left join organisation_records as recipient
        on recipient.record_source = 'grant_recipient'
        and funding.provider_id = recipient.source_record_id
    left join allocation
        on funding.grant_id = allocation.grant_id
    left join area_codes
        on funding.grant_id = area_codes.grant_id
    left join in_directory
        on funding.grant_id = in_directory.grant_id

)

select * from final
