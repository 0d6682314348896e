"""HTTP GET for pulling public community data, with the standard library only.

One ``Fetcher`` serves a whole pull. Each request:

* waits until ``min_interval_seconds`` have passed since the last request to the same host
  (a polite rate limit);
* sends ``If-None-Match`` / ``If-Modified-Since`` when the caller knows the validators from
  the last pull, so an unchanged resource comes back as ``304 Not Modified`` with no body;
* is retried on a connection error, a timeout, ``429`` and any ``5xx``, waiting
  ``backoff_seconds`` and doubling each time (at most ``max_backoff_seconds``), or as long as
  the server's ``Retry-After`` asks (a server asking for more than
  ``max_retry_after_seconds`` counts as unreachable now);
* refuses a body over ``max_response_bytes`` (``ingest.limits.MAX_DOWNLOAD_BYTES`` at most),
  checked against ``Content-Length`` first and counted while reading.

Every failure is a ``PullError`` with a one-line message naming the address.
"""

import email.utils
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from urllib.parse import urlsplit

from ingest.pull.config import Settings

RETRIED_STATUSES = frozenset({429, *range(500, 600)})
_CHUNK = 1 << 16


class PullError(Exception):
    """A source that could not be pulled now, said in one line (with the HTTP status of an
    answer that was not retried, such as 404)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Response:
    url: str
    status: int  # 200 (or another 2xx) with a body, or 304 Not Modified without one
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class Fetcher:
    """Pulls with retries, backoff, conditional requests, a rate limit and a size cap.

    ``sleep`` and ``clock`` are ``time.sleep`` and ``time.monotonic`` unless a test passes
    others; ``requests`` counts every request sent and ``waits`` records every wait, as
    ``(reason, seconds)`` with reason ``rate_limit``, ``backoff`` or ``retry_after``.
    """

    settings: Settings
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    requests: int = 0
    waits: list[tuple[str, float]] = field(default_factory=list)
    _last_request: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # no file:// or ftp:// handler, so neither an address nor a redirect can reach one
        self._opener = urllib.request.OpenerDirector()
        for handler in (
            urllib.request.ProxyHandler(),
            urllib.request.HTTPHandler(),
            urllib.request.HTTPSHandler(),
            urllib.request.HTTPRedirectHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
        ):
            self._opener.add_handler(handler)

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = "*/*",
    ) -> Response:
        """GET ``url``; a ``PullError`` when it cannot be had now (after the retries)."""
        settings = self.settings
        headers = {"User-Agent": settings.user_agent, "Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        host = urlsplit(url).netloc.casefold()
        for attempt in range(1, settings.attempts + 1):
            self._pace(host)
            try:
                with self._opener.open(
                    urllib.request.Request(url, headers=headers), timeout=settings.timeout_seconds
                ) as answer:
                    body = self._read(url, answer.headers, answer)
                    return _response(url, answer.status, body, answer.headers)
            except urllib.error.HTTPError as error:
                status, reply = error.code, error.headers
                error.close()
                if status == 304:
                    return _response(url, 304, b"", reply)
                problem = f"HTTP {status} {error.reason}".strip()
                if status not in RETRIED_STATUSES:
                    raise PullError(f"{url}: {problem}", status=status) from None
                retry_after = _retry_after(reply, datetime.now(UTC))
            except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
                problem = _connection_problem(error)
                retry_after = None
            if attempt == settings.attempts:
                break
            if retry_after is not None:
                if retry_after > settings.max_retry_after_seconds:
                    raise PullError(
                        f"could not reach {url}: {problem}, and the server asks to wait "
                        f"{retry_after:,.0f} s (more than max_retry_after_seconds)"
                    )
                self._wait("retry_after", retry_after)
            else:
                backoff = settings.backoff_seconds * 2 ** (attempt - 1)
                self._wait("backoff", min(backoff, settings.max_backoff_seconds))
        raise PullError(f"could not reach {url}: {problem} (tried {settings.attempts} times)")

    def _pace(self, host: str) -> None:
        last = self._last_request.get(host)
        if last is not None:
            due = last + self.settings.min_interval_seconds - self.clock()
            if due > 0:
                self._wait("rate_limit", due)
        self._last_request[host] = self.clock()
        self.requests += 1

    def _wait(self, reason: str, seconds: float) -> None:
        self.waits.append((reason, seconds))
        if seconds > 0:
            self.sleep(seconds)

    def _read(self, url: str, headers: Message, answer: http.client.HTTPResponse) -> bytes:
        cap = self.settings.max_response_bytes
        declared = headers.get("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > cap:
            raise PullError(_too_large(url, f"declares {int(declared):,} bytes, more", cap))
        chunks, total = [], 0
        while chunk := answer.read(_CHUNK):
            total += len(chunk)
            if total > cap:
                raise PullError(_too_large(url, "is longer", cap))
            chunks.append(chunk)
        return b"".join(chunks)


def _too_large(url: str, what: str, cap: int) -> str:
    return f"refused {url}: the response {what} than the limit of {cap:,} bytes"


def _response(url: str, status: int, body: bytes, headers: Message) -> Response:
    return Response(
        url=url,
        status=status,
        body=body,
        etag=headers.get("ETag"),
        last_modified=headers.get("Last-Modified"),
        content_type=headers.get("Content-Type"),
    )


def _retry_after(headers: Message, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date), else None."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _connection_problem(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    if isinstance(reason, TimeoutError):
        return "no answer within timeout_seconds"
    text = str(reason).strip() or type(reason).__name__
    return text.splitlines()[0][:200]
