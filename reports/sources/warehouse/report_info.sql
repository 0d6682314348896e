-- What the report was built from: the published version, when, the suppression rule, and
-- where the build's test results came from.
select
    built_at,
    published_version_id,
    published_at,
    published_run_id,
    is_demo,
    suppression_rule,
    shape_origin,
    tests_origin
from icp.report_info
