-- What each funder's and directory's data lacks, check by check (marts.fct_publisher_data_quality):
-- counts of grants and services, not people.
select
    publisher_kind,
    publisher_id,
    publisher_name,
    check_code,
    check_title,
    check_description,
    how_to_fix,
    records_count,
    records_failing_count,
    records_failing_pct,
    as_of_date
from icp.publisher_data_quality
