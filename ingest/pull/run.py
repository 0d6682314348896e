"""Pull each configured source and load what changed; keep the last good load otherwise.

An Open Referral UK directory: ``/services`` is paged through (``?page=N&per_page=...``,
pages counted from 1) until the response says it was the last page (``last``,
``last_page``, ``totalPages``/``total_pages``), a page brings no service not seen before (an
API that ignores ``page``), or a page is empty; a listing longer than ``max_pages`` fails the
pull rather than load part of a directory. Then each service's full record,
``/services/{id}``, is fetched (a record gone since the listing, 404, is skipped and counted).

A 360Giving publication: one GET; its format from the entry's ``format``, else the response's
Content-Type, else the address's extension, else its first bytes.

What is remembered, per source, in ``state.json`` in the pull folder beside the warehouse
(``pull_folder``): each address's ``ETag``, ``Last-Modified`` and sha256, and the last good
load's ids and time. A source is loaded again only when something changed: every answer
``304 Not Modified`` or the same bytes as last time, while the last load is still current in
``audit.loads``, is ``unchanged``, and nothing is loaded. (The list pages are always fetched
whole: their ids are needed.) Pulled files are not kept: they are handed to the loader and
deleted, so what is kept of them is what the loader keeps (the archive, the raw tables). When
a source has changed, what answered 304 is fetched whole again for the load.

A source that cannot be pulled (unreachable, an HTTP error, a response over the size limit,
not JSON) or whose files the loader refuses is ``failed``: its one-line message is kept with
the time of the last good load, and nothing loaded before is touched. A refused publication's
validators are forgotten, so the next pull fetches it whole and tries again.
"""

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import duckdb

from ingest.errors import InputError
from ingest.load import LoadResult, connect
from ingest.pull.config import (
    GIVING_FORMATS,
    CommunitySources,
    GivingSource,
    OpenReferralSource,
    Source,
    slug,
)
from ingest.pull.http import Fetcher, PullError, Response

# load the files of one source into the warehouse: one LoadResult per load, InputError to refuse
Loader = Callable[[Source, list[Path], Path], list[LoadResult]]

STATE_NAME = "state.json"
_LIST_KEYS = ("content", "contents", "items", "data", "services")
_CONTENT_TYPES = {
    "application/json": "json",
    "text/json": "json",
    "text/csv": "csv",
    "application/csv": "csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
}


@dataclass
class PullOutcome:
    """What became of one source in one pull."""

    source: Source
    status: str  # loaded | unchanged | failed
    message: str
    requests: int = 0
    fetched: int = 0  # answers with a body
    not_modified: int = 0  # 304 answers
    same_content: int = 0  # answers with a body identical to the last pull's
    services_listed: int = 0  # Open Referral: services in the listing
    records_missing: int = 0  # Open Referral: listed services whose record answered 404
    loads: list[LoadResult] = field(default_factory=list)
    last_good_load_at: str | None = None

    @property
    def rows_loaded(self) -> int:
        return sum(result.rows_loaded for result in self.loads)

    @property
    def rows_quarantined(self) -> int:
        return sum(result.rows_quarantined for result in self.loads)

    def line(self) -> str:
        """The outcome in one line, as logs and the asset's metadata show it."""
        message = "; ".join(line.strip() for line in self.message.splitlines() if line.strip())
        head = f"{self.source.kind} {self.source.name!r}: {message}"
        if self.status == "failed":
            since = self.last_good_load_at or "never"
            return f"{head}; the last good load ({since}) is kept"
        return head


def pull_folder(db_path: Path) -> Path:
    """Where pulled files and the pull state live: beside the warehouse file."""
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}-pull")


class PullState:
    """``state.json``: per source, per address, what the last pull saw."""

    def __init__(self, db_path: Path) -> None:
        self.folder = pull_folder(db_path)
        self.path = self.folder / STATE_NAME
        try:
            self.data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            self.data = {}
        self.data.setdefault("sources", {})

    def of(self, source: Source) -> dict[str, Any]:
        entry = self.data["sources"].setdefault(source.key, {})
        entry.setdefault("urls", {})
        return entry

    def files(self, source: Source) -> Path:
        """Where a source's answers are put while a pull loads them (emptied after)."""
        return self.folder / source.kind / slug(source.name)

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        spare = self.path.with_suffix(".tmp")
        spare.write_text(json.dumps(self.data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(spare, self.path)


def pull_sources(
    sources: CommunitySources,
    db_path: Path,
    load: Loader,
    *,
    fetcher: Fetcher | None = None,
    only: Sequence[str] | None = None,
) -> list[PullOutcome]:
    """Pull every source (or those of kind ``only``), one after another."""
    fetcher = fetcher or Fetcher(sources.settings)
    state = PullState(db_path)
    outcomes = []
    for source in sources.sources:
        if only is not None and source.kind not in only:
            continue
        outcomes.append(pull_source(source, db_path, load, fetcher=fetcher, state=state))
    return outcomes


def pull_source(
    source: Source, db_path: Path, load: Loader, *, fetcher: Fetcher, state: PullState
) -> PullOutcome:
    """Pull one source; load it when it changed. Never raises for the source's own faults."""
    remembered = state.of(source)
    outcome = PullOutcome(source, "failed", "", last_good_load_at=remembered.get("loaded_at"))
    staging = state.files(source)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    current = _still_current(db_path, remembered)
    pull = _Pull(source, fetcher, remembered["urls"] if current else {}, staging, outcome)
    before = fetcher.requests
    remembered["checked_at"] = _now()
    try:
        if isinstance(source, OpenReferralSource):
            pull.directory(fetcher.settings.per_page, fetcher.settings.max_pages)
        else:
            pull.publication()
        if current and remembered.get("content_sha256") == pull.content():
            outcome.status = "unchanged"
            outcome.message = _unchanged_message(outcome)
        else:
            files = pull.fill_gaps()
            outcome.loads = load(source, files, db_path)
            outcome.status = "loaded"
    except (PullError, InputError) as error:
        if isinstance(error, InputError):  # refused: fetch it whole next time
            # the reason, row and column, without the path of a file that is deleted now
            where = InputError(error.reason, row=error.row, column=error.column).message
            outcome.message = f"refused by the loader: {where}"
            remembered["urls"] = {}
            remembered.pop("content_sha256", None)
        else:
            outcome.message = str(error)
        remembered["error"] = outcome.message
        return outcome
    finally:
        # nothing pulled is kept: what the loader keeps of a file is in the archive
        shutil.rmtree(staging, ignore_errors=True)
        outcome.requests = fetcher.requests - before
        state.save()
    remembered["error"] = None
    remembered["urls"] = pull.seen
    if outcome.status == "loaded":
        remembered["load_ids"] = [result.load_id for result in outcome.loads if result.load_id]
        remembered["content_sha256"] = pull.content()
        if outcome.loads and all(result.status == "unchanged" for result in outcome.loads):
            outcome.status = "unchanged"  # the loader had these very files already
            outcome.message = "unchanged: the warehouse holds these files already; nothing loaded"
        else:
            outcome.last_good_load_at = remembered["loaded_at"] = _now()
            outcome.message = _loaded_message(outcome)
    state.save()
    return outcome


class _Pull:
    """One source's requests. An answer's bytes go to a file in ``staging``; a 304 leaves a
    gap, filled (the resource fetched whole) only when the source is to be loaded after all.
    ``seen`` records each address's validators and sha256."""

    def __init__(
        self,
        source: Source,
        fetcher: Fetcher,
        remembered: dict[str, Any],
        staging: Path,
        outcome: PullOutcome,
    ) -> None:
        self.source, self.fetcher, self.staging, self.outcome = source, fetcher, staging, outcome
        self.remembered = remembered  # per address, from the last good load (if still current)
        self.seen: dict[str, dict[str, str | None]] = {}
        self.files: list[tuple[str, str]] = []  # (address, file name), in the loader's order
        self.gaps: list[tuple[str, str]] = []  # the ones that answered 304

    def get(self, url: str, name: str, *, conditional: bool = True) -> bytes | None:
        """The answer's body (also written to ``staging/name``), or None for 304."""
        before = self.remembered.get(url) or {}
        known = conditional and bool(before.get("sha256"))
        answer = self.fetcher.get(
            url,
            etag=before.get("etag") if known else None,
            last_modified=before.get("last_modified") if known else None,
            accept="application/json" if isinstance(self.source, OpenReferralSource) else "*/*",
        )
        if answer.not_modified:
            if not known:
                raise PullError(
                    f"{url}: HTTP 304 Not Modified to a request that was not conditional"
                )
            self.outcome.not_modified += 1
            self.seen[url] = _validators(answer, before) | {"sha256": before["sha256"]}
            return None
        self.outcome.fetched += 1
        sha = hashlib.sha256(answer.body).hexdigest()
        if sha == before.get("sha256"):
            self.outcome.same_content += 1
        (self.staging / name).write_bytes(answer.body)
        self.seen[url] = _validators(answer, before) | {"sha256": sha}
        return answer.body

    def add(self, url: str, name: str, body: bytes | None) -> None:
        self.files.append((url, name))
        if body is None:
            self.gaps.append((url, name))

    def content(self) -> str:
        """One digest over what the loader gets, in order (a 304 counts as its last bytes)."""
        digest = hashlib.sha256()
        for url, name in self.files:
            digest.update(f"{name}\0{self.seen[url]['sha256']}\0".encode())
        return digest.hexdigest()

    def fill_gaps(self) -> list[Path]:
        """Fetch whole what answered 304; the files for the loader."""
        for url, name in self.gaps:
            body = self.get(url, name, conditional=False)
            if isinstance(self.source, OpenReferralSource):
                _record(url, body)
        self.gaps = []
        return [self.staging / name for _, name in self.files]

    def directory(self, per_page: int, max_pages: int) -> None:
        source = self.source
        assert isinstance(source, OpenReferralSource)
        ids: dict[str, None] = {}  # in the listing's order
        finished = False
        for page in range(1, max_pages + 1):
            url = _with_query(_join(source.base_url, "services"), page=page, per_page=per_page)
            # fetched whole every time: the ids on it are needed (its sha256 says if it changed)
            body = self.get(url, f"services-page-{page:04d}.json", conditional=False)
            document = _json(url, body or b"")
            items = _items(url, document)
            new = [key for key in map(_service_id, items) if key and key not in ids]
            if not new:  # empty, or the same services again: the API ignores ?page
                finished = True
                break
            ids.update(dict.fromkeys(new))
            if _is_last_page(document, page):
                finished = True
                break
        if not finished:
            raise PullError(
                f"{source.base_url}: the services listing goes on past {max_pages} pages "
                "(raise max_pages in the settings if the directory is that large)"
            )
        self.outcome.services_listed = len(ids)
        for number, key in enumerate(ids, start=1):
            url = _join(source.base_url, "services", quote(key, safe=""))
            name = f"service-{number:05d}.json"
            try:
                body = self.get(url, name)
            except PullError as error:
                if error.status != 404:
                    raise
                self.outcome.records_missing += 1
                continue
            if body is not None:
                _record(url, body)
            self.add(url, name, body)

    def publication(self) -> None:
        source = self.source
        assert isinstance(source, GivingSource)
        body = self.get(source.url, "publication")
        seen = self.seen[source.url]
        if body is None:
            kind = (self.remembered.get(source.url) or {}).get("format")
        else:
            kind = source.format or _format_of(source.url, seen, body)
        if kind is None:
            raise PullError(
                f"{source.url}: cannot tell whether the publication is JSON, CSV, XLSX or ODS "
                "(set format: in its entry)"
            )
        seen["format"] = kind
        name = f"publication.{kind}"
        if body is not None:
            (self.staging / "publication").rename(self.staging / name)
        self.add(source.url, name, body)


def _record(url: str, body: bytes | None) -> None:
    if not isinstance(_json(url, body or b""), dict):
        raise PullError(f"{url}: a service's record is not a JSON object")


def _validators(answer: Response, before: dict[str, Any]) -> dict[str, str | None]:
    if answer.not_modified:  # a 304 may repeat the validators or leave them out
        return {
            "etag": answer.etag or before.get("etag"),
            "last_modified": answer.last_modified or before.get("last_modified"),
            "content_type": before.get("content_type"),
        }
    return {
        "etag": answer.etag,
        "last_modified": answer.last_modified,
        "content_type": answer.content_type,
    }


def _still_current(db_path: Path, remembered: dict[str, Any]) -> bool:
    """Whether the last good load is still in the warehouse (not superseded or rebuilt)."""
    load_ids = remembered.get("load_ids") or []
    if not load_ids or not Path(db_path).is_file():
        return False
    try:
        con = connect(db_path, read_only=True)
    except duckdb.Error:
        return False
    try:
        placeholders = ", ".join("?" for _ in load_ids)
        (found,) = con.execute(  # type: ignore[misc]
            f"select count(*) from audit.loads where status = 'loaded' "
            f"and load_id in ({placeholders})",
            load_ids,
        ).fetchone()
    except duckdb.Error:
        return False
    finally:
        con.close()
    return int(found) == len(load_ids)


def _loaded_message(outcome: PullOutcome) -> str:
    counted = f"{outcome.fetched} fetched, {outcome.not_modified} not modified"
    if isinstance(outcome.source, OpenReferralSource):
        counted += f"; {outcome.services_listed} services listed"
        if outcome.records_missing:
            counted += f", {outcome.records_missing} records gone (404)"
    return (
        f"loaded ({counted}): {outcome.rows_loaded:,} rows loaded, "
        f"{outcome.rows_quarantined:,} quarantined"
    )


def _unchanged_message(outcome: PullOutcome) -> str:
    return (
        f"unchanged since the load of {outcome.last_good_load_at} ({outcome.not_modified} not "
        f"modified, {outcome.same_content} with the same content); nothing loaded"
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _join(base: str, *parts: str) -> str:
    scheme, netloc, path, query, _ = urlsplit(base)
    path = "/".join([path.rstrip("/"), *parts])
    return urlunsplit((scheme, netloc, path, query, ""))


def _with_query(url: str, **params: int) -> str:
    scheme, netloc, path, query, _ = urlsplit(url)
    kept = [(key, value) for key, value in parse_qsl(query) if key not in params]
    return urlunsplit((scheme, netloc, path, urlencode([*kept, *params.items()]), ""))


def _json(url: str, body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise PullError(f"{url}: the answer is not JSON") from None


def _items(url: str, document: object) -> list[object]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in _LIST_KEYS:
            if isinstance(document.get(key), list):
                return document[key]
    raise PullError(
        f"{url}: not a page of services (a JSON list, or an object with one of "
        f"{', '.join(_LIST_KEYS)})"
    )


def _service_id(item: object) -> str | None:
    key = item.get("id") if isinstance(item, dict) else None
    if isinstance(key, bool) or not isinstance(key, str | int) or str(key).strip() == "":
        return None
    return str(key).strip()


def _is_last_page(document: object, page: int) -> bool:
    """Whether a page says it is the last: ORUK's ``last`` and ``totalPages``, HSDS 3's
    ``last_page`` and ``total_pages``. A page that says nothing is not the last."""
    if not isinstance(document, dict):
        return True  # a bare list has no pages
    for flag in ("last", "last_page", "lastPage"):
        if isinstance(document.get(flag), bool):
            return document[flag]
    for count in ("totalPages", "total_pages"):
        total = document.get(count)
        if isinstance(total, int) and not isinstance(total, bool):
            return page >= total
    return False


def _format_of(url: str, seen: dict[str, Any], body: bytes) -> str | None:
    content_type = (seen.get("content_type") or "").split(";")[0].strip().casefold()
    if content_type in _CONTENT_TYPES:
        return _CONTENT_TYPES[content_type]
    suffix = Path(urlsplit(url).path).suffix.casefold().lstrip(".")
    if suffix in GIVING_FORMATS:
        return suffix
    start = body.lstrip()[:1]
    if start in (b"{", b"["):
        return "json"
    if body.startswith(b"PK"):
        return "ods" if b"application/vnd.oasis.opendocument.spreadsheet" in body[:100] else "xlsx"
    return None
