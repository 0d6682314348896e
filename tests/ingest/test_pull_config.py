"""The community sources file: the documented example is valid and documents every setting;
a wrong file is refused with a message naming the file, the entry and the key."""

from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from ingest.errors import InputError
from ingest.pull.config import (
    EXAMPLE_NAME,
    GivingSource,
    OpenReferralSource,
    Settings,
    read_sources,
)

EXAMPLE = Path(__file__).resolve().parents[2] / EXAMPLE_NAME


def test_the_example_is_valid_and_shows_every_default() -> None:
    sources = read_sources(EXAMPLE)
    assert sources.open_referral == (
        OpenReferralSource(
            "exampleshire-directory", "https://directory.example.org/api/v1", "E08000901"
        ),
    )
    assert [source.format for source in sources.giving360] == [None, "xlsx"]
    assert all(isinstance(source, GivingSource) for source in sources.giving360)
    # the example's settings block is the reference: every setting, each at its default
    documented = yaml.safe_load(EXAMPLE.read_text())["settings"]
    assert set(documented) == {item.name for item in fields(Settings)}
    assert sources.settings == Settings()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "community_sources.yml"
    path.write_text(text)
    return path


DIRECTORY = "open_referral:\n  - directory: D\n    base_url: https://x.example/api\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("open_referral: [\n", "not valid YAML (line 2, column 1)"),
        ("- a\n", "the file: must be a mapping of keys to values"),
        (
            "sources: []\n",
            "the file: unknown key 'sources' (known keys: giving360, open_referral, settings)",
        ),
        (
            "open_referral: {directory: D}\n",
            "open_referral: must be a list of entries, each starting '- '",
        ),
        (
            DIRECTORY + "    local_authority: E0800\n",
            "open_referral entry 1: local_authority must be",
        ),
        (
            DIRECTORY + "    local_authority: E08000026\n    la: E08000026\n",
            "open_referral entry 1: unknown key 'la'",
        ),
        (
            DIRECTORY.replace("https://x.example/api", "ftp://x.example/")
            + "    local_authority: E08000026\n",
            "open_referral entry 1: base_url must be an http:// or https:// address, not 'ftp://x.example/'",
        ),
        (
            "giving360:\n  - url: https://x.example/g.json\n",
            "giving360 entry 1: funder is required",
        ),
        ("giving360:\n  - funder: F\n", "giving360 entry 1: url is required"),
        (
            "giving360:\n  - funder: F\n    url: https://x.example:99999/g\n",
            "giving360 entry 1: url must be an http:// or https:// address",
        ),
        (
            DIRECTORY.replace("directory: D", "directory: Bucks FIS"),
            "open_referral entry 1: directory must be a short name for the directory",
        ),
        (
            "giving360:\n  - funder: F\n    url: https://x.example/g\n    format: pdf\n",
            "giving360 entry 1: format must be one of json, csv, xlsx, ods, not 'pdf'",
        ),
        (
            "giving360:\n  - funder: F\n    url: https://x.example/a\n  - funder: f\n    url: https://x.example/b\n",
            "giving360 entry 2: 'f' has the same name as giving360 entry 1",
        ),
        (
            "giving360:\n  - funder: F\n    url: https://x.example/a\n  - funder: G\n    url: https://x.example/a\n",
            "giving360 entry 2: the same address as giving360 entry 1",
        ),
        ("settings:\n  attempts: 0\n", "settings: attempts must be at least 1"),
        ("settings:\n  attempts: 2.5\n", "settings: attempts must be a whole number, not 2.5"),
        ("settings:\n  timeout_seconds: soon\n", "settings: timeout_seconds must be a number"),
        ("settings:\n  retries: 3\n", "settings: unknown key 'retries'"),
        (
            "settings:\n  max_response_bytes: 999999999999\n",
            "may lower the download limit, not raise it",
        ),
    ],
)
def test_a_wrong_file_names_the_entry_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as raised:
        read_sources(path)
    assert raised.value.path == path
    assert message in raised.value.message
    assert raised.value.message.startswith(f"{path}: ")


def test_an_empty_file_lists_no_sources(tmp_path: Path) -> None:
    assert read_sources(write(tmp_path, "# nothing yet\n")).sources == ()


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the community sources file does not exist"):
        read_sources(tmp_path / "absent.yml")


def test_settings_override_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "settings:\n  min_interval_seconds: 0.25\n  per_page: 50\n")
    settings = read_sources(path).settings
    assert (settings.min_interval_seconds, settings.per_page) == (0.25, 50)
    assert settings.attempts == Settings().attempts
