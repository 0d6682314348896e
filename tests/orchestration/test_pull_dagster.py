"""The pull assets, their job and schedule, and ``icb-insight pull``, against a real HTTP
server on 127.0.0.1 serving a recorded 360Giving publication."""

from pathlib import Path

from cli_runner import run_cli
from dagster import AssetKey, materialize
from pull_server import PageServer, Reply, publication_read_today

from orchestration.ingest.pull import CHECK_NAME, pull_assets
from orchestration.resources import CommunitySourcesResource, WarehouseResource

FAST = """\
settings:
  attempts: 2
  backoff_seconds: 0
  min_interval_seconds: 0
  timeout_seconds: 5
"""


def sources_file(tmp_path: Path, server: PageServer) -> Path:
    path = tmp_path / "community_sources.yml"
    path.write_text(
        FAST + f"giving360:\n  - funder: Trafford Council\n    url: {server.url('/grants.json')}\n"
    )
    return path


def run_pull(tmp_path: Path, sources: Path):
    giving = [asset for asset in pull_assets if asset.key == AssetKey(["pull", "giving360"])]
    result = materialize(
        giving,
        resources={
            "warehouse": WarehouseResource(location=str(tmp_path / "warehouse")),
            "community_sources": CommunitySourcesResource(file=str(sources)),
        },
        raise_on_error=False,
    )
    return result


def materialized(result) -> dict:
    (event,) = result.get_asset_materialization_events()
    return {key: value.value for key, value in event.materialization.metadata.items()}


def check_of(result):
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == CHECK_NAME
    return evaluation


def test_the_asset_loads_then_finds_it_unchanged_then_reports_the_source_down(
    server: PageServer, tmp_path: Path
) -> None:
    server.serve("/grants.json", Reply(publication_read_today(), headers={"ETag": '"v1"'}))
    sources = sources_file(tmp_path, server)
    first = run_pull(tmp_path, sources)
    assert first.success
    metadata = materialized(first)
    assert (metadata["loaded"], metadata["failed"], metadata["pages_fetched"]) == (1, 0, 1)
    (source,) = metadata["per_source"]
    assert source["rows_loaded"] + source["rows_quarantined"] == 30
    assert check_of(first).passed
    loaded_at = source["last_good_load_at"]

    second = materialized(run_pull(tmp_path, sources))
    assert (second["unchanged"], second["not_modified"], second["loaded"]) == (1, 1, 0)

    server.serve("/grants.json", Reply(b"", status=503))
    down = run_pull(tmp_path, sources)
    assert down.success  # the other sources would still load; the check says what failed
    assert materialized(down)["failed"] == 1
    check = check_of(down)
    assert not check.passed
    assert check.metadata["last_good_load_at"].value == {"Trafford Council": loaded_at}
    (line,) = check.metadata["failed"].value
    assert "could not reach" in line and f"the last good load ({loaded_at}) is kept" in line


def test_no_sources_file_pulls_nothing(tmp_path: Path) -> None:
    result = run_pull(tmp_path, tmp_path / "absent.yml")
    assert result.success
    assert materialized(result)["sources"] == 0
    assert check_of(result).passed


def test_a_wrong_sources_file_fails_the_asset_naming_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "community_sources.yml"
    path.write_text("giving360:\n  - funder: F\n")
    result = run_pull(tmp_path, path)
    assert not result.success
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    assert "giving360 entry 1: url is required" in failure.event_specific_data.error.message


def test_pull_has_its_own_job_and_schedule_and_feeds_the_raw_tables(dbt_manifest) -> None:
    from orchestration.definitions import defs

    pulls = {AssetKey(["pull", "open_referral"]), AssetKey(["pull", "giving360"])}
    community = defs.resolve_job_def("community_pull")
    assert set(community.asset_layer.executable_asset_keys) == pulls
    full = defs.resolve_job_def("full_build")
    assert not pulls & set(full.asset_layer.executable_asset_keys)
    schedule = defs.resolve_schedule_def("weekly_community_pull")
    assert (schedule.cron_schedule, schedule.job_name) == ("0 5 * * 1", "community_pull")
    graph = defs.resolve_asset_graph()
    for raw, pull in [
        ("provider_funding", "giving360"),
        ("providers", "open_referral"),
        ("activities", "open_referral"),
    ]:
        assert AssetKey(["pull", pull]) in graph.get(AssetKey(["raw", raw])).parent_keys


def test_cli_pull_checks_the_file_then_pulls(
    server: PageServer, tmp_path: Path, monkeypatch, capsys
) -> None:
    server.serve("/grants.json", Reply(publication_read_today()))
    sources = sources_file(tmp_path, server)
    warehouse = ["--warehouse", str(tmp_path / "warehouse")]
    code, out, _ = run_cli(["pull", "--check", "--sources-file", str(sources)], monkeypatch, capsys)
    assert code == 0
    assert "0 Open Referral directories, 1 360Giving publications; the file is valid" in out
    code, out, err = run_cli(
        ["pull", "--sources-file", str(sources), *warehouse], monkeypatch, capsys
    )
    assert code == 0, err
    assert "giving360 'Trafford Council': loaded (1 fetched, 0 not modified)" in out
    server.serve("/grants.json", Reply(b"", status=500))
    code, out, err = run_cli(
        ["pull", "--sources-file", str(sources), *warehouse], monkeypatch, capsys
    )
    assert code == 2
    assert "HTTP 500 Internal Server Error (tried 2 times); the last good load (" in err


def test_cli_pull_names_the_entry_of_a_wrong_file(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "community_sources.yml"
    path.write_text("open_referral:\n  - directory: D\n    base_url: nowhere\n")
    code, _, err = run_cli(["pull", "--check", "--sources-file", str(path)], monkeypatch, capsys)
    assert code == 2
    assert err.strip() == (
        f"error: {path}: open_referral entry 1: base_url must be an http:// or https:// "
        "address, not 'nowhere'"
    )
