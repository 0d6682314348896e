-- Which file the report was built from and when its sources were read (for the "Data" note).
select
    regexp_extract(path, '[^/\\]+$') as file_name,
    cast(current_timestamp as timestamp) as sources_read_at
from duckdb_databases()
where not internal and database_name not in ('memory', 'system', 'temp')
limit 1
