with

source as (

    select * from {{ source('raw', 'link_worker_capacity') }}

),

renamed as (

    select
        -- ids
        pcn_code,

        -- capacity
        link_worker_fte,
        open_caseload,
        open_caseload / nullif(link_worker_fte, 0) as open_caseload_per_fte,

        -- dates
        month_start_date,

        -- load metadata
        _loaded_at as loaded_at,
        _source_file as source_file

    from source

)

select * from renamed
