"""The Dagster definitions load, the job resolves, and ingest joins dbt in one graph."""

from dagster import AssetKey

from ingest.contracts import CONTRACTS


def test_definitions_load_and_job_resolves(dbt_manifest) -> None:
    from orchestration.definitions import defs

    job = defs.resolve_job_def("full_build")
    assert job.name == "full_build"
    schedule = defs.resolve_schedule_def("weekly_build")
    assert schedule.cron_schedule == "0 6 * * 1"
    assert schedule.execution_timezone == "Europe/London"


def test_every_dbt_source_is_an_ingest_asset(dbt_manifest) -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    for name in CONTRACTS:
        assert AssetKey(["raw", name]) in keys
    # staging models depend on the ingest assets, not on separate source stubs
    staging = [key for key in keys if key.path[-1].startswith("stg_")]
    assert staging, "no staging models found"
    for key in staging:
        parents = graph.get(key).parent_keys
        assert any(parent.path[0] == "raw" for parent in parents), key
        for parent in parents:
            if parent.path[0] == "raw":
                assert graph.get(parent).is_materializable, f"{parent} is not an ingest asset"


def test_module_holds_exactly_one_definitions_object(dbt_manifest) -> None:
    """`dagster dev -m orchestration.definitions` refuses a module with several."""
    from dagster import Definitions

    import orchestration.definitions as module

    found = [name for name, value in vars(module).items() if isinstance(value, Definitions)]
    assert found == ["defs"]
