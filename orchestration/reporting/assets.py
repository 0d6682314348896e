"""The weekly ICP report as a Dagster asset, built after the warehouse is published."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    ConfigurableResource,
    Definitions,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.reporting import site
from orchestration.resources import WarehouseResource


class ReportResource(ConfigurableResource):
    """How the report is built. ``build_site`` False (or ICB_INSIGHT_SKIP_REPORT=1) writes
    report.duckdb only and leaves the Evidence site as it is (tests, quick builds)."""

    build_site: bool = True

    @property
    def skip_site(self) -> bool:
        return not self.build_site or site.skip_requested()


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
    result = site.build_report(warehouse.db_path, site=not skip)
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
