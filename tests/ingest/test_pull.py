"""Pulling community sources over HTTP, offline: a real HTTP server on 127.0.0.1 serves
recorded pages (tests/fixtures/published/, see PROVENANCE.md there) and scripted failures.

Waits never happen for real: the fetcher's sleep is recorded (and moves a pretend clock), so
the tests count waits and requests, never time them."""

import email.utils
import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from pull_server import (
    GIVING,
    ORUK,
    PageServer,
    Reply,
    page_server,
    publication_read_today,
    recorded_services,
    serve_directory,
)

from ingest.load import LoadResult, connect, load_file
from ingest.openreferral.places import DEFAULT_BOUNDARIES
from ingest.pull.config import (
    CommunitySources,
    GivingSource,
    OpenReferralSource,
    Settings,
    Source,
)
from ingest.pull.http import Fetcher, PullError
from ingest.pull.loaders import load_pulled
from ingest.pull.run import PullState, pull_folder, pull_source

QUICK = Settings(
    attempts=3,
    backoff_seconds=0.5,
    max_backoff_seconds=1,
    max_retry_after_seconds=5,
    min_interval_seconds=0,
    timeout_seconds=5,
)


class PretendTime:
    """A clock that moves only when the fetcher sleeps: waits are recorded, never spent."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def fetcher(settings: Settings = QUICK) -> Fetcher:
    time = PretendTime()
    return Fetcher(settings, sleep=time.sleep, clock=time.clock)


class Recording:
    """A loader that keeps what it was handed (the files' JSON) and loads nothing."""

    def __init__(self) -> None:
        self.calls: list[list[object]] = []

    def __call__(self, source: Source, files: list[Path], db_path: Path) -> list[LoadResult]:
        self.calls.append([json.loads(path.read_bytes()) for path in files])
        return []


def directory(server: PageServer, base: str = "/api/v1") -> OpenReferralSource:
    return OpenReferralSource("bucks-fis", server.url(base), "E06000060")


def pull(source: Source, db_path: Path, load, settings: Settings = QUICK, the_fetcher=None):
    the_fetcher = the_fetcher or fetcher(settings)
    return pull_source(source, db_path, load, fetcher=the_fetcher, state=PullState(db_path))


# --- paging and full records ---------------------------------------------------------------


@pytest.mark.parametrize("envelope", ["oruk", "hsds3", "no page count"])
def test_pages_through_services_then_fetches_every_full_record(
    server: PageServer, tmp_path: Path, envelope: str
) -> None:
    ids = serve_directory(server, per_page=7, envelope=envelope)
    load = Recording()
    settings = replace(QUICK, per_page=7)
    outcome = pull(directory(server), tmp_path / "w.duckdb", load, settings)
    assert outcome.status == "loaded", outcome.line()
    pages = server.requested("/api/v1/services?")
    # three pages of 7, 7 and 6; without a page count the empty fourth page ends the listing
    assert len(pages) == (4 if envelope == "no page count" else 3)
    assert outcome.services_listed == 20
    assert server.requested("/api/v1/services/") == [f"/api/v1/services/{key}" for key in ids]
    (handed,) = load.calls
    assert [str(record["id"]) for record in handed] == ids
    first = json.loads((ORUK / "buckinghamshire-outpost-service-1.json").read_text())
    assert handed[0] == first  # the full record, not the listing's entry


def test_an_api_that_ignores_the_page_stops_at_the_repeated_page(
    server: PageServer, tmp_path: Path
) -> None:
    services = recorded_services()
    same = Reply.json({"content": services, "totalPages": 99})  # wrong count, same page always
    for number in range(1, 6):
        server.serve(f"/api/v1/services?page={number}&per_page=100", same)
    for service in services:
        server.serve(f"/api/v1/services/{service['id']}", Reply.json(service))
    outcome = pull(directory(server), tmp_path / "w.duckdb", Recording())
    assert outcome.status == "loaded", outcome.line()
    assert len(server.requested("/api/v1/services?")) == 2
    assert outcome.services_listed == 20


def test_a_listing_past_max_pages_fails_rather_than_load_part_of_it(
    server: PageServer, tmp_path: Path
) -> None:
    services = recorded_services()
    for number in range(1, 5):  # every page new services and no page count
        server.serve(
            f"/api/v1/services?page={number}&per_page=5",
            Reply.json({"content": services[(number - 1) * 5 : number * 5]}),
        )
    load = Recording()
    outcome = pull(
        directory(server), tmp_path / "w.duckdb", load, replace(QUICK, per_page=5, max_pages=3)
    )
    assert outcome.status == "failed"
    assert "past 3 pages" in outcome.message and "max_pages" in outcome.message
    assert load.calls == []
    assert server.requested("/api/v1/services/") == []


def test_a_record_gone_since_the_listing_is_skipped_and_counted(
    server: PageServer, tmp_path: Path
) -> None:
    ids = serve_directory(server, per_page=100)
    del server.routes[f"/api/v1/services/{ids[3]}"]  # 404
    load = Recording()
    outcome = pull(directory(server), tmp_path / "w.duckdb", load)
    assert outcome.status == "loaded"
    assert outcome.records_missing == 1
    assert len(load.calls[0]) == 19
    assert "1 records gone (404)" in outcome.message


def test_a_page_that_is_not_json_fails_the_pull_with_its_address(
    server: PageServer, tmp_path: Path
) -> None:
    server.serve("/api/v1/services?page=1&per_page=100", Reply(b"<html>maintenance</html>"))
    outcome = pull(directory(server), tmp_path / "w.duckdb", Recording())
    assert outcome.status == "failed"
    assert (
        outcome.message
        == f"{server.url('/api/v1/services?page=1&per_page=100')}: the answer is not JSON"
    )


# --- conditional requests and unchanged content (the real funding loader) -------------------


def funder(server: PageServer, path: str = "/open-data/grants.json") -> GivingSource:
    return GivingSource("Trafford Council", server.url(path))


def query(db_path: Path, sql: str) -> list[tuple]:
    con = connect(db_path, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def query_one(db_path: Path, sql: str) -> tuple:
    (row,) = query(db_path, sql)
    return row


def loads_of(db_path: Path) -> list[tuple[str, str]]:
    return query(db_path, "select load_id, status from audit.loads order by loaded_at")


def pulled_files(db_path: Path) -> list[Path]:
    """Files left in the pull folder besides its state: none, ever."""
    folder = pull_folder(db_path)
    return [path for path in folder.rglob("*") if path.is_file() and path.name != "state.json"]


def load_funding(source: Source, files: list[Path], db_path: Path) -> list[LoadResult]:
    return [load_file("provider_funding", path, db_path) for path in files]


@pytest.mark.parametrize(
    "validators",
    [{"ETag": '"v1"'}, {"Last-Modified": "Sat, 05 Dec 2026 10:00:00 GMT"}, {}],
    ids=["etag", "last-modified", "none"],
)
def test_an_unchanged_publication_is_not_loaded_again(
    server: PageServer, tmp_path: Path, validators: dict[str, str]
) -> None:
    body = publication_read_today()
    server.serve("/open-data/grants.json", Reply(body, headers=validators))
    db_path = tmp_path / "w.duckdb"
    first = pull(funder(server), db_path, load_funding)
    assert first.status == "loaded", first.line()
    assert first.rows_loaded + first.rows_quarantined == 30
    assert pulled_files(db_path) == []  # handed to the loader, then deleted
    second = pull(funder(server), db_path, load_funding)
    assert second.status == "unchanged", second.line()
    assert len(loads_of(db_path)) == 1
    sent = server.log[-1].headers
    if "ETag" in validators:
        assert sent.get("If-None-Match") == '"v1"' and second.not_modified == 1
    elif validators:
        assert sent.get("If-Modified-Since") == validators["Last-Modified"]
        assert second.not_modified == 1
    else:  # no validators: the same bytes (sha256) are recognised
        assert "If-None-Match" not in sent and second.same_content == 1
    assert second.last_good_load_at == first.last_good_load_at


def test_a_changed_publication_is_loaded_and_a_rebuilt_warehouse_gets_it_again(
    server: PageServer, tmp_path: Path
) -> None:
    body = publication_read_today()
    server.serve("/open-data/grants.json", Reply(body, headers={"ETag": '"v1"'}))
    db_path = tmp_path / "w.duckdb"
    assert pull(funder(server), db_path, load_funding).status == "loaded"
    grants = json.loads(body)
    grants["grants"] = grants["grants"][:10]
    server.serve(
        "/open-data/grants.json", Reply(json.dumps(grants).encode(), headers={"ETag": '"v2"'})
    )
    changed = pull(funder(server), db_path, load_funding)
    assert changed.status == "loaded" and changed.rows_loaded + changed.rows_quarantined == 10
    db_path.unlink()  # the warehouse built again from nothing: the pull loads it again
    again = pull(funder(server), db_path, load_funding)
    assert again.status == "loaded", again.line()
    assert "If-None-Match" not in server.log[-1].headers


def test_files_the_warehouse_holds_already_are_reported_unchanged(
    server: PageServer, tmp_path: Path
) -> None:
    server.serve("/open-data/grants.json", Reply(publication_read_today()))
    db_path = tmp_path / "w.duckdb"
    assert pull(funder(server), db_path, load_funding).status == "loaded"
    shutil.rmtree(pull_folder(db_path))  # the pull's memory lost, the warehouse kept
    again = pull(funder(server), db_path, load_funding)
    assert again.status == "unchanged", again.line()
    assert again.message.startswith("unchanged: the warehouse holds these files already")
    assert [status for _, status in loads_of(db_path)] == ["loaded"]


# --- failures: retried, or the last good load kept -----------------------------------------


def test_503_then_200_is_retried_after_a_backoff(server: PageServer, tmp_path: Path) -> None:
    server.serve(
        "/open-data/grants.json",
        Reply(b"busy", status=503),
        Reply(publication_read_today()),
    )
    the_fetcher = fetcher()
    outcome = pull(funder(server), tmp_path / "w.duckdb", load_funding, the_fetcher=the_fetcher)
    assert outcome.status == "loaded", outcome.line()
    assert outcome.requests == 2
    assert the_fetcher.waits == [("backoff", 0.5)]


def test_backoff_doubles_up_to_its_cap_then_the_source_is_unreachable(server: PageServer) -> None:
    server.serve("/down", Reply(b"", status=502))
    the_fetcher = fetcher(replace(QUICK, attempts=4))
    with pytest.raises(PullError) as raised:
        the_fetcher.get(server.url("/down"))
    assert the_fetcher.waits == [("backoff", 0.5), ("backoff", 1.0), ("backoff", 1.0)]
    assert (
        str(raised.value)
        == f"could not reach {server.url('/down')}: HTTP 502 Bad Gateway (tried 4 times)"
    )


def test_429_waits_as_long_as_retry_after_says(server: PageServer) -> None:
    server.serve("/slow", Reply(b"", status=429, headers={"Retry-After": "3"}), Reply(b"{}"))
    the_fetcher = fetcher()
    assert the_fetcher.get(server.url("/slow")).body == b"{}"
    assert the_fetcher.waits == [("retry_after", 3.0)]


def test_retry_after_as_an_http_date_is_honoured(server: PageServer) -> None:
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=4), usegmt=True)
    server.serve("/slow", Reply(b"", status=503, headers={"Retry-After": when}), Reply(b"{}"))
    the_fetcher = fetcher()
    assert the_fetcher.get(server.url("/slow")).body == b"{}"
    ((reason, seconds),) = the_fetcher.waits
    assert reason == "retry_after" and 0 < seconds <= 4


def test_a_retry_after_longer_than_allowed_counts_as_unreachable_now(server: PageServer) -> None:
    server.serve("/slow", Reply(b"", status=503, headers={"Retry-After": "3600"}))
    the_fetcher = fetcher()
    with pytest.raises(PullError, match="asks to wait 3,600 s"):
        the_fetcher.get(server.url("/slow"))
    assert the_fetcher.requests == 1 and the_fetcher.waits == []


def test_a_server_slower_than_the_timeout_is_tried_again_then_unreachable(
    server: PageServer,
) -> None:
    server.serve("/slow", Reply(b"{}", delay=0.5))
    the_fetcher = fetcher(replace(QUICK, timeout_seconds=0.05, attempts=2))
    with pytest.raises(PullError) as raised:
        the_fetcher.get(server.url("/slow"))
    assert str(raised.value) == (
        f"could not reach {server.url('/slow')}: no answer within timeout_seconds (tried 2 times)"
    )
    assert the_fetcher.requests == 2


def test_a_client_error_is_not_retried(server: PageServer) -> None:
    the_fetcher = fetcher()
    with pytest.raises(PullError, match=r"/missing: HTTP 404 Not Found$"):
        the_fetcher.get(server.url("/missing"))
    assert the_fetcher.requests == 1


def test_unreachable_source_keeps_the_last_good_load(server: PageServer, tmp_path: Path) -> None:
    server.serve(
        "/open-data/grants.json", Reply(publication_read_today(), headers={"ETag": '"v1"'})
    )
    db_path = tmp_path / "w.duckdb"
    first = pull(funder(server), db_path, load_funding)
    assert first.status == "loaded"
    server.serve("/open-data/grants.json", Reply(b"", status=503))  # down now, for every try
    outcome = pull(funder(server), db_path, load_funding)
    assert outcome.status == "failed"
    line = outcome.line()
    assert "\n" not in line
    assert line.startswith("giving360 'Trafford Council': could not reach http://127.0.0.1:")
    assert line.endswith(f"(tried 3 times); the last good load ({first.last_good_load_at}) is kept")
    assert loads_of(db_path) == [(first.loads[0].load_id, "loaded")]
    assert pulled_files(db_path) == []
    state = json.loads((pull_folder(db_path) / "state.json").read_text())
    assert state["sources"]["giving360/trafford-council"]["error"] == outcome.message


def test_nothing_listening_is_a_clear_one_line_failure(tmp_path: Path, no_proxy: None) -> None:
    with page_server() as gone:
        address = gone.url("/grants.json")
    outcome = pull(GivingSource("Gone Trust", address), tmp_path / "w.duckdb", load_funding)
    assert outcome.status == "failed"
    assert outcome.message.startswith(f"could not reach {address}: ")
    assert outcome.line().endswith("the last good load (never) is kept")
    assert "\n" not in outcome.line()


def test_a_publication_the_loader_refuses_leaves_nothing_and_is_fetched_whole_next_time(
    server: PageServer, tmp_path: Path
) -> None:
    server.serve("/open-data/grants.json", Reply(b'{"grants": [', headers={"ETag": '"bad"'}))
    db_path = tmp_path / "w.duckdb"
    outcome = pull(funder(server), db_path, load_funding)
    assert outcome.status == "failed"
    assert outcome.message.startswith("refused by the loader: not valid JSON")
    assert not PullState(db_path).files(funder(server)).exists()
    assert list(pull_folder(db_path).glob("giving360/*")) == []
    pull(funder(server), db_path, load_funding)
    assert "If-None-Match" not in server.log[-1].headers


# --- politeness and limits -----------------------------------------------------------------


def test_requests_to_one_host_wait_the_minimum_interval(server: PageServer, tmp_path: Path) -> None:
    serve_directory(server, per_page=10)
    the_fetcher = fetcher(replace(QUICK, per_page=10, min_interval_seconds=2))
    outcome = pull(directory(server), tmp_path / "w.duckdb", Recording(), the_fetcher=the_fetcher)
    assert outcome.status == "loaded"
    assert outcome.requests == 2 + 20 == the_fetcher.requests == len(server.log)
    # every request after the first waited (the pretend clock moves only when it waits)
    assert the_fetcher.waits == [("rate_limit", 2.0)] * (outcome.requests - 1)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "no-length"])
def test_an_oversize_response_is_refused(
    server: PageServer, tmp_path: Path, declared: bool
) -> None:
    server.serve("/open-data/grants.json", Reply(b"x" * 5000, declare_length=declared))
    settings = replace(QUICK, max_response_bytes=4096)
    load = Recording()
    outcome = pull(funder(server), tmp_path / "w.duckdb", load, settings)
    assert outcome.status == "failed"
    assert outcome.message.startswith(f"refused {funder(server).url}: the response ")
    assert outcome.message.endswith("than the limit of 4,096 bytes")
    assert load.calls == []
    assert outcome.requests == 1  # not retried


def test_the_format_comes_from_the_entry_the_content_type_the_address_or_the_bytes(
    server: PageServer, tmp_path: Path
) -> None:
    csv = (GIVING / "trafford-council-voluntary-sector-grants.csv").read_bytes()
    xlsx = (GIVING / "ab-charitable-trust-2013-2020.xlsx").read_bytes()
    server.serve("/a", Reply(csv, headers={"Content-Type": "text/csv; charset=utf-8"}))
    server.serve("/b.xlsx", Reply(xlsx, headers={"Content-Type": "application/octet-stream"}))
    server.serve("/c", Reply(b'{"grants": []}'))
    server.serve("/d", Reply(csv))
    seen = {}

    def names(source: Source, files: list[Path], db_path: Path) -> list[LoadResult]:
        seen[source.name] = [path.name for path in files]
        return []

    for name, path, kind in [
        ("a", "/a", None),
        ("b", "/b.xlsx", None),
        ("c", "/c", None),
        ("d", "/d", "csv"),
    ]:
        pull(GivingSource(name, server.url(path), kind), tmp_path / "w.duckdb", names)
    assert seen == {
        "a": ["publication.csv"],
        "b": ["publication.xlsx"],
        "c": ["publication.json"],
        "d": ["publication.csv"],
    }
    outcome = pull(GivingSource("e", server.url("/d")), tmp_path / "w.duckdb", names)
    assert outcome.status == "failed" and "set format: in its entry" in outcome.message


def test_sources_in_one_pull_share_the_state_file(server: PageServer, tmp_path: Path) -> None:
    from ingest.pull.run import pull_sources

    serve_directory(server, per_page=100)
    server.serve("/open-data/grants.json", Reply(publication_read_today()))
    sources = CommunitySources(None, QUICK, (directory(server),), (funder(server),))
    handed = []

    def load(source: Source, files: list[Path], db_path: Path) -> list[LoadResult]:
        handed.append(source.kind)
        if isinstance(source, GivingSource):
            return load_funding(source, files, db_path)
        return []

    outcomes = pull_sources(sources, tmp_path / "w.duckdb", load, fetcher=fetcher())
    assert [outcome.status for outcome in outcomes] == ["loaded", "loaded"]
    assert handed == ["open_referral", "giving360"]
    state = json.loads((pull_folder(tmp_path / "w.duckdb") / "state.json").read_text())
    assert set(state["sources"]) == {
        "open_referral/bucks-fis",
        "giving360/trafford-council",
    }


# --- an Open Referral directory pulled into the warehouse (the real directory loader) -------

# the shared reference copy (not `from conftest import`: with tests/e2e collected too, that
# name finds tests/e2e/conftest.py)
BOUNDARIES = DEFAULT_BOUNDARIES
SHARED_REFERENCE = DEFAULT_BOUNDARIES.parent


@pytest.mark.skipif(not BOUNDARIES.is_file(), reason="the shared LSOA boundaries are not here")
def test_a_directory_is_pulled_into_the_warehouse_then_found_unchanged(
    server: PageServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest.reference.geography import build_geography

    monkeypatch.setenv("ICB_INSIGHT_LSOA_BOUNDARIES", str(BOUNDARIES))
    db_path = tmp_path / "w.duckdb"
    lookups = [
        "lsoa21_sicbl24_icb24_lad24_lookup_en_geographr.csv",
        "lsoa21_ward24_lad24_lookup_ew_geographr.csv",
        "hocl_msoa_names_2021_v2.2.csv",
    ]
    geography = build_geography(*(SHARED_REFERENCE / name for name in lookups))
    geography.filter(pl.col("lad_code") == "E06000060").write_csv(tmp_path / "geography.csv")
    load_file("geography", tmp_path / "geography.csv", db_path)
    ids = serve_directory(server, per_page=8)
    for service in recorded_services():  # answers carry validators from here on
        path = f"/api/v1/services/{service['id']}"
        server.routes[path][0].headers["ETag"] = f'"{service["id"]}-v1"'

    first = pull(directory(server), db_path, load_pulled, replace(QUICK, per_page=8))
    assert first.status == "loaded", first.line()
    assert [result.source for result in first.loads] == ["providers", "activities"]
    activities = query_one(
        db_path,
        "select count(*), count(distinct directory_id), min(directory_id) from raw.activities",
    )
    assert activities == (len(ids), 1, "bucks-fis")

    again = pull(directory(server), db_path, load_pulled, replace(QUICK, per_page=8))
    assert again.status == "unchanged", again.line()
    assert again.not_modified == len(ids)  # every full record answered 304
    assert again.same_content == 3  # the list pages, fetched whole, the same bytes
    assert [status for _, status in loads_of(db_path)].count("loaded") == 3

    # one record changed: the directory is loaded again, the others fetched whole for it
    changed = server.routes[f"/api/v1/services/{ids[4]}"][0]
    record = json.loads(changed.body)
    record["name"] = "Renamed since"
    changed.body, changed.headers["ETag"] = json.dumps(record).encode(), f'"{ids[4]}-v2"'
    before = len(server.log)
    third = pull(directory(server), db_path, load_pulled, replace(QUICK, per_page=8))
    assert third.status == "loaded", third.line()
    assert (third.not_modified, third.fetched) == (19, 3 + 1 + 19)
    refetched = server.log[before + 3 + 20 :]
    assert len(refetched) == 19 and not any("If-None-Match" in r.headers for r in refetched)
    assert pulled_files(db_path) == []
    assert query_one(db_path, "select count(*) from raw.activities") == (len(ids),)
