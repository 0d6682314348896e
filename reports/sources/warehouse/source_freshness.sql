-- When each source was last loaded, and how many rows (rounded like every count); the file
-- by its label (source and short checksum), never the name it was sent under.
select
    source,
    file_name,
    loaded_at,
    rows_read_count,
    rows_loaded_count,
    rows_quarantined_count,
    rows_quarantined_count_is_suppressed
from icp.source_freshness
