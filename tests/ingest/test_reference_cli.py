"""`icb-insight reference download` against a loopback HTTP server serving the reference
folder, and `reference prepare` on what it fetched."""

import hashlib
import json
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest
from cli_runner import run_cli

from ingest.reference.download import MANIFEST
from orchestration.cli import main

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "data" / "reference"

pytestmark = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason=f"the real reference files are not at {REFERENCE}"
)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def mirror() -> Iterator[str]:
    """http://127.0.0.1:<free port> serving ../shared/data/reference."""
    handler = partial(_QuietHandler, directory=str(REFERENCE))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def downloaded(mirror: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("downloaded")
    monkeypatch = pytest.MonkeyPatch()
    try:
        monkeypatch.setattr(sys, "argv", ["icb-insight", "reference", "download", "--out",
                                          str(out), "--base-url", mirror])  # fmt: skip
        try:
            main()
        except SystemExit as exit_:
            assert not exit_.code
    finally:
        monkeypatch.undo()
    return out


def test_download_fetches_every_file_with_checksums(downloaded: Path, mirror: str) -> None:
    sums: dict[str, str] = {}
    for line in (downloaded / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    assert len(sums) == len(MANIFEST)
    for entry in MANIFEST:
        name = entry.mirror_name or entry.name
        original = (REFERENCE / name).read_bytes()
        assert (downloaded / name).read_bytes() == original
        assert sums[name] == hashlib.sha256(original).hexdigest()
    record = json.loads((downloaded / "provenance.json").read_text())
    assert record["base_url"] == mirror
    files = {item["name"]: item for item in record["files"]}
    for entry in MANIFEST:
        item = files[entry.mirror_name or entry.name]
        assert item["status"] == "fetched"
        assert item["source_url"] == f"{mirror}/{entry.mirror_name or entry.name}"
        assert item["publisher"] and item["licence"] and item["fetched_at"]
    assert not list(downloaded.glob("*.part"))


def test_download_names_a_missing_file_and_exits_2(
    mirror: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    code, _, err = run_cli(
        ["reference", "download", "--out", str(tmp_path), "--base-url", f"{mirror}/nowhere"],
        monkeypatch,
        capsys,
    )
    assert code == 2
    assert "not fetched" in err and "iod2019_lsoa11_file7_subset_ASSEMBLED.csv" in err
    assert "Traceback" not in err
    record = json.loads((tmp_path / "provenance.json").read_text())
    assert {item["status"] for item in record["files"]} == {"failed"}


def test_publisher_manifest_says_where_each_file_comes_from() -> None:
    names = [entry.name for entry in MANIFEST]
    assert len(set(names)) == len(names)
    for entry in MANIFEST:
        assert entry.page.startswith("https://")
        assert entry.url is None or entry.url.startswith("https://")


def test_prepare_from_the_downloaded_folder(
    downloaded: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    out = tmp_path / "south_yorkshire"
    code, text, err = run_cli(
        ["reference", "prepare", "--reference-dir", str(downloaded), "--icb", "E54000061",
         "--out", str(out)],
        monkeypatch,
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "NHS South Yorkshire Integrated Care Board" in text
    assert "lacks:" in text  # the reconstruction's missing columns are said
    geography = pl.read_csv(out / "geography.csv")
    assert geography.height == 860 and set(geography["icb_code"]) == {"E54000061"}
    deprivation = pl.read_csv(out / "deprivation.csv")
    assert set(deprivation["iod_edition"]) == {2025}
    provenance = json.loads((out / "reference_provenance.json").read_text())
    assert provenance["deprivation"]["published_on_lsoa_vintage"] == 2021


def test_prepare_unknown_icb_is_a_plain_error(monkeypatch, capsys, tmp_path: Path) -> None:
    code, _, err = run_cli(
        ["reference", "prepare", "--reference-dir", str(REFERENCE), "--icb", "E54000999",
         "--out", str(tmp_path)],
        monkeypatch,
        capsys,
    )  # fmt: skip
    assert code == 2
    assert err.startswith("error: no ICB 'E54000999'")


def test_la_summaries_one_row_per_district(monkeypatch, capsys, tmp_path: Path) -> None:
    out = tmp_path / "la.csv"
    code, text, err = run_cli(
        ["reference", "la-summaries", "--reference-dir", str(REFERENCE), "--out", str(out)],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    assert "317 areas" in text
    frame = pl.read_csv(out)
    for column in ("lad_code", "lad_name", "imd_average_rank", "imd_average_score",
                   "imd_proportion_lsoas_most_deprived_10pct", "imd_extent",
                   "imd_local_concentration"):  # fmt: skip
        assert column in frame.columns
    assert frame["lad_code"].n_unique() == 317
    first = frame.sort("imd_proportion_lsoas_most_deprived_10pct_rank").row(0, named=True)
    assert first["lad_name"] == "Middlesbrough"
    assert frame.filter(pl.col("imd_average_score_rank") == 1)["lad_name"][0] == "Blackpool"
