-- What each funder's and directory's data lacks, check by check (marts.fct_publisher_data_quality):
-- counts of grants and services, not people. With no publisher yet (an empty table), one row of
-- nulls, which the pages leave out: Evidence cannot read an empty result.
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
union all
select
    null, null, null, null, null, null, null, null, null, null, null
where not exists (select 1 from icp.publisher_data_quality)
