"""The weekly ICP report as a Dagster asset, built after the warehouse is published."""

from dagster import (
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    ConfigurableResource,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.publish import published_path
from orchestration.report_data import published_run_id
from orchestration.reporting import site
from orchestration.resources import WarehouseResource


class ReportResource(ConfigurableResource):
    """How the report is built. ``build_site`` False (or ICB_INSIGHT_SKIP_REPORT=1) writes
    report.duckdb only and leaves the Evidence site as it is (tests, quick builds)."""

    build_site: bool = True

    @property
    def skip_site(self) -> bool:
        return not self.build_site or site.skip_requested()


def asset_check_rows(instance: DagsterInstance, run_id: str) -> list[dict[str, str]]:
    """The Dagster asset checks evaluated in run ``run_id`` (the run that published), as rows
    of the report's build_tests table."""
    if not run_id:
        return []
    rows = []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data if entry.dagster_event else None
        if evaluation is None:
            continue
        severity = "warn" if evaluation.severity == AssetCheckSeverity.WARN else "error"
        rows.append(
            {
                "check_source": "Dagster asset check",
                "test_name": f"{evaluation.check_name} on {evaluation.asset_key.to_user_string()}",
                "status": "pass" if evaluation.passed else "warn" if severity == "warn" else "fail",
                "severity": severity,
            }
        )
    return rows


@asset(
    key=AssetKey(["icb_report"]),
    group_name="reports",
    # after publishing, and after the extracts so each council's page offers this week's package
    deps=[AssetKey(["published_warehouse"]), AssetKey(["la_extracts"])],
    kinds={"duckdb", "evidence"},
    description="The weekly ICP report: report.duckdb (every figure through disclosure "
    "control) beside the published warehouse, and the Evidence site in reports/build, "
    "swapped in only when its build succeeds.",
)
def icb_report(
    context: AssetExecutionContext, warehouse: WarehouseResource, report: ReportResource
) -> MaterializeResult:
    skip = report.skip_site
    if skip:
        context.log.info(f"Evidence site not built ({site.SKIP_ENV} or build_site=False)")
    # the checks of the run that built the PUBLISHED warehouse (this run, in the weekly job)
    checks = asset_check_rows(context.instance, published_run_id(published_path(warehouse.db_path)))
    result = site.build_report(warehouse.db_path, site=not skip, asset_checks=checks)
    metadata = {
        "report_db": MetadataValue.path(str(result["report_db"])),
        "tables": MetadataValue.json(result["tables"]),
        "site_built": not skip,
    }
    if result["site"] is not None:
        metadata["site"] = MetadataValue.path(str(result["site"]))
        metadata["static_files"] = MetadataValue.json(result["static_files"])
    return MaterializeResult(metadata=metadata)


defs = Definitions(assets=[icb_report], resources={"report": ReportResource()})
