-- What the report was built from: the published version, when, and the suppression rule.
select
    built_at,
    published_version_id,
    published_at,
    is_demo,
    suppression_rule,
    shape_origin
from icp.report_info
