{#-
    A directory's file replaces only its own directory's rows, so one activity_id can be in
    two directories' loads: the row loaded last is kept.
    category: as published, else the first rule of seed activity_taxonomy_categories (lowest
    priority) matching one of the taxonomy terms, else 'other'. (A seed lookup in staging: the
    mapping is part of reading the directory's own vocabulary, like a unit conversion.)
    Capacity: places_per_session is null when the directory does not publish it (unknown,
    never 0), and so is weekly_places.
-#}
with

source as (

    select * from {{ source('raw', 'activities') }}
    qualify row_number() over (
        partition by activity_id order by _loaded_at desc, directory_id nulls last
    ) = 1

),

taxonomy_categories as (

    select * from {{ ref('activity_taxonomy_categories') }}

),

terms as (

    select
        activity_id,
        lower(trim(unnest(string_split(taxonomy_terms, ';')))) as term
    from source
    where category is null and taxonomy_terms is not null

),

mapped as (

    select
        terms.activity_id,
        taxonomy_categories.category
    from terms
    inner join taxonomy_categories
        on regexp_matches(terms.term, taxonomy_categories.term_pattern)
    qualify row_number() over (
        partition by terms.activity_id
        order by taxonomy_categories.priority, taxonomy_categories.category
    ) = 1

),

renamed as (

    select
        -- ids
        source.directory_id,
        source.activity_id,
        source.provider_id,
        source.venue_lsoa_code,
        source.venue_lad_code,
        coalesce(
            source.venue_placement,
            case when source.venue_lsoa_code is not null then 'lsoa_given' end
        ) as venue_placement,

        -- activity
        source.activity_name,
        coalesce(source.category, mapped.category, 'other') as category,
        case
            when source.category is not null then 'published'
            when mapped.category is not null then 'taxonomy'
            else 'unmapped'
        end as category_basis,
        source.taxonomy_terms,

        -- capacity (null = not published: unknown)
        source.sessions_per_week,
        source.places_per_session,
        source.capacity_unit,
        source.sessions_per_week * source.places_per_session as weekly_places,
        source.sessions_per_week is not null
        and source.places_per_session is not null as is_capacity_known,

        -- cost
        source.cost_to_attend_gbp,
        source.cost_to_attend_gbp = 0 as is_free,

        -- dates
        source.start_date,
        source.end_date,
        source.end_date is null as is_open_ended,
        source.record_updated_date,

        -- load metadata
        source._loaded_at as loaded_at,
        source._source_file as source_file

    from source
    left join mapped
        on source.activity_id = mapped.activity_id

)

select * from renamed
