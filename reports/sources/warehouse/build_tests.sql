-- The tests and checks of the build that produced the published warehouse (dbt tests from
-- that run's run_results.json, Dagster asset checks of that run): names and outcomes only.
select
    check_source,
    test_name,
    status,
    severity
from icp.build_tests
