"""The community sources file: which Open Referral UK directories and 360Giving publications
to pull, and how politely.

``community_sources.example.yml`` at the project root is the reference for the file (every
key, with its meaning and default); ``read_sources`` checks a file against it and refuses it
with an ``InputError`` naming the file, the entry and the key.
"""

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ingest.contracts.sources import DIRECTORY_ID
from ingest.errors import InputError
from ingest.limits import MAX_DOWNLOAD_BYTES

EXAMPLE_NAME = "community_sources.example.yml"
GIVING_FORMATS = ("json", "csv", "xlsx", "ods")
_LA_CODE = re.compile(r"^[EWSN]\d{8}$")  # a GSS code (E06, E07, E08, E09, W06, S12, N09...)
_DIRECTORY_KEYS = {"directory", "base_url", "local_authority"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Settings:
    """How every source is pulled (the ``settings:`` block; every key optional)."""

    timeout_seconds: float = 30.0
    attempts: int = 5
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 120.0
    max_retry_after_seconds: float = 600.0
    min_interval_seconds: float = 1.0
    per_page: int = 100
    max_pages: int = 1000
    max_response_bytes: int = MAX_DOWNLOAD_BYTES
    user_agent: str = "icb-insight community data pull"


@dataclass(frozen=True)
class OpenReferralSource:
    """An Open Referral UK API: its ``/services`` are paged through, then each full record."""

    directory: str
    base_url: str
    local_authority: str
    kind: str = field(default="open_referral", init=False)

    @property
    def name(self) -> str:
        return self.directory

    @property
    def key(self) -> str:
        return f"{self.kind}/{slug(self.directory)}"


@dataclass(frozen=True)
class GivingSource:
    """A 360Giving publication (JSON package, CSV or spreadsheet) at one URL."""

    funder: str
    url: str
    format: str | None = None  # json, csv, xlsx, ods; None: from the response or the URL
    kind: str = field(default="giving360", init=False)

    @property
    def name(self) -> str:
        return self.funder

    @property
    def key(self) -> str:
        return f"{self.kind}/{slug(self.funder)}"


Source = OpenReferralSource | GivingSource


@dataclass(frozen=True)
class CommunitySources:
    path: Path | None
    settings: Settings = Settings()
    open_referral: tuple[OpenReferralSource, ...] = ()
    giving360: tuple[GivingSource, ...] = ()

    @property
    def sources(self) -> tuple[Source, ...]:
        return (*self.open_referral, *self.giving360)


def slug(name: str) -> str:
    """A source's name as a file name: lower case, runs of other characters as one '-'."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")


def read_sources(path: Path) -> CommunitySources:
    """The sources in ``path``, checked; an ``InputError`` names the entry and key at fault."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"the community sources file does not exist (start one from {EXAMPLE_NAME})",
            path=path,
        ) from None
    except UnicodeDecodeError:
        raise InputError("the community sources file is not UTF-8 text", path=path) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise InputError(f"not valid YAML{where}", path=path) from None
    if document is None:
        return CommunitySources(path=path)
    return parse_sources(document, path)


def parse_sources(document: object, path: Path) -> CommunitySources:
    top = _mapping(document, "the file", path, {"settings", "open_referral", "giving360"})
    settings = _settings(top.get("settings") or {}, path)
    directories = tuple(
        OpenReferralSource(
            directory=_directory_id(entry, where, path),
            base_url=_url(entry, "base_url", where, path),
            local_authority=_la_code(entry, where, path),
        )
        for where, entry in _entries(top, "open_referral", _DIRECTORY_KEYS, path)
    )
    publications = tuple(
        GivingSource(
            funder=_text(entry, "funder", where, path),
            url=_url(entry, "url", where, path),
            format=_format(entry, where, path),
        )
        for where, entry in _entries(top, "giving360", {"funder", "url", "format"}, path)
    )
    sources = CommunitySources(path, settings, directories, publications)
    _check_unique(sources, path)
    return sources


def _entries(
    top: dict[str, Any], section: str, keys: set[str], path: Path
) -> list[tuple[str, dict[str, Any]]]:
    items = top.get(section) or []
    if not isinstance(items, list):
        raise InputError(f"{section}: must be a list of entries, each starting '- '", path=path)
    found = []
    for number, item in enumerate(items, start=1):
        where = f"{section} entry {number}"
        found.append((where, _mapping(item, where, path, keys)))
    return found


def _mapping(value: object, where: str, path: Path, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{where}: must be a mapping of keys to values", path=path)
    unknown = sorted(str(key) for key in value if key not in keys)
    if unknown:
        raise InputError(
            f"{where}: unknown key {unknown[0]!r} (known keys: {', '.join(sorted(keys))})",
            path=path,
        )
    return value


def _text(entry: dict[str, Any], key: str, where: str, path: Path) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: {key} is required (a name in words)", path=path)
    value = value.strip()
    if _CONTROL.search(value) or len(value) > 200 or not slug(value):
        raise InputError(
            f"{where}: {key} must be one line of at most 200 characters, with letters or digits",
            path=path,
        )
    return value


def _directory_id(entry: dict[str, Any], where: str, path: Path) -> str:
    value = entry.get("directory")
    if not isinstance(value, str) or not re.match(DIRECTORY_ID, value.strip()):
        raise InputError(
            f"{where}: directory must be a short name for the directory, letters, digits, "
            f"'.', '_' or '-' (at most 64, such as bucks-fis), not {value!r}",
            path=path,
        )
    return value.strip()


def _url(entry: dict[str, Any], key: str, where: str, path: Path) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: {key} is required (an http:// or https:// address)", path=path)
    value = value.strip()
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number in range)
    except ValueError:
        parts = parts._replace(scheme="")
    if parts.scheme not in ("http", "https") or not parts.hostname or _CONTROL.search(value):
        raise InputError(
            f"{where}: {key} must be an http:// or https:// address, not {value!r}", path=path
        )
    return value


def _la_code(entry: dict[str, Any], where: str, path: Path) -> str:
    value = entry.get("local_authority")
    if not isinstance(value, str) or not _LA_CODE.match(value.strip()):
        raise InputError(
            f"{where}: local_authority must be the directory's local authority GSS code "
            f"(a letter and eight digits, such as E08000026), not {value!r}",
            path=path,
        )
    return value.strip()


def _format(entry: dict[str, Any], where: str, path: Path) -> str | None:
    value = entry.get("format")
    if value is None:
        return None
    if not isinstance(value, str) or value.strip().casefold() not in GIVING_FORMATS:
        raise InputError(
            f"{where}: format must be one of {', '.join(GIVING_FORMATS)}, not {value!r}",
            path=path,
        )
    return value.strip().casefold()


def _settings(value: object, path: Path) -> Settings:
    known = {item.name: item for item in fields(Settings)}
    block = _mapping(value, "settings", path, set(known))
    chosen: dict[str, Any] = {}
    for key, given in block.items():
        default = getattr(Settings, key)
        if isinstance(default, str):
            if not isinstance(given, str) or not given.strip() or _CONTROL.search(given):
                raise InputError(f"settings: {key} must be one line of text", path=path)
            chosen[key] = given.strip()
            continue
        kind = int if isinstance(default, int) else float
        if isinstance(given, bool) or not isinstance(given, int | float) or given < 0:
            raise InputError(
                f"settings: {key} must be a number, at least 0, not {given!r}", path=path
            )
        if kind is int and given != int(given):
            raise InputError(f"settings: {key} must be a whole number, not {given!r}", path=path)
        chosen[key] = kind(given)
    settings = Settings(**chosen)
    for key in ("attempts", "per_page", "max_pages", "max_response_bytes"):
        if getattr(settings, key) < 1:
            raise InputError(f"settings: {key} must be at least 1", path=path)
    if settings.timeout_seconds <= 0:
        raise InputError("settings: timeout_seconds must be more than 0", path=path)
    if settings.max_response_bytes > MAX_DOWNLOAD_BYTES:
        raise InputError(
            f"settings: max_response_bytes may lower the download limit, not raise it "
            f"(at most {MAX_DOWNLOAD_BYTES:,})",
            path=path,
        )
    return settings


def _check_unique(sources: CommunitySources, path: Path) -> None:
    seen_keys: dict[str, str] = {}
    seen_urls: dict[str, str] = {}
    counters = {"open_referral": 0, "giving360": 0}
    for source in sources.sources:
        counters[source.kind] += 1
        where = f"{source.kind} entry {counters[source.kind]}"
        url = source.base_url if isinstance(source, OpenReferralSource) else source.url
        if source.key in seen_keys:
            raise InputError(
                f"{where}: {source.name!r} has the same name as {seen_keys[source.key]}", path=path
            )
        if url in seen_urls:
            raise InputError(f"{where}: the same address as {seen_urls[url]}", path=path)
        seen_keys[source.key] = where
        seen_urls[url] = where
