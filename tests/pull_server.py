"""A real HTTP server on 127.0.0.1 (a random port, in a thread) serving recorded pages, for the
pull tests: each address answers from a script of responses, honours If-None-Match and
If-Modified-Since when its response carries validators, and every request is logged.

The fixture ``server`` (registered in conftest.py) yields a running one."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PUBLISHED = Path(__file__).parent / "fixtures" / "published"
ORUK = PUBLISHED / "openreferral"
GIVING = PUBLISHED / "giving360"


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    declare_length: bool = True  # False: no Content-Length, the body ends when the connection does
    delay: float = 0.0  # seconds before answering (a server slower than the client's timeout)

    @classmethod
    def json(cls, document: object, **headers: str) -> "Reply":
        return cls(
            json.dumps(document).encode(), headers={"Content-Type": "application/json", **headers}
        )


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]


class PageServer:
    """Routes from a path (with its query) to replies; the last reply of a script repeats."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.log: list[Recorded] = []
        self.port = 0

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def requested(self, prefix: str = "") -> list[str]:
        return [entry.path for entry in self.log if entry.path.startswith(prefix)]

    def reply_to(self, path: str, headers: dict[str, str]) -> Reply:
        self.log.append(Recorded(path, headers))
        script = self.routes.get(path)
        if not script:
            return Reply(b"not found", status=404)
        reply = script.pop(0) if len(script) > 1 else script[0]
        etag = reply.headers.get("ETag")
        modified = reply.headers.get("Last-Modified")
        if reply.status == 200 and (
            (etag and headers.get("If-None-Match") == etag)
            or (not etag and modified and headers.get("If-Modified-Since") == modified)
        ):
            return Reply(
                status=304,
                headers={key: value for key, value in reply.headers.items() if key == "ETag"},
            )
        return reply


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to 127.0.0.1 go straight there, whatever proxy the environment names."""
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def server(no_proxy: None) -> Iterator["PageServer"]:
    with page_server() as pages:
        yield pages


@contextmanager
def page_server() -> Iterator[PageServer]:
    pages = PageServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            reply = pages.reply_to(self.path, dict(self.headers.items()))
            if reply.delay:
                time.sleep(reply.delay)
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if reply.declare_length and reply.status != 304:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.status != 304:
                self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    pages.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield pages
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# the page envelope's keys: page number, page size, pages, services, first, last, the services
ENVELOPES = {
    "oruk": ("number", "size", "totalPages", "totalElements", "first", "last", "content"),
    "hsds3": (
        "page_number",
        "size",
        "total_pages",
        "total_items",
        "first_page",
        "last_page",
        "contents",
    ),
}

# --- recorded pages ------------------------------------------------------------------------


def recorded_services() -> list[dict]:
    """The 20 services of a recorded Open Referral UK /services page (Buckinghamshire)."""
    return json.loads((ORUK / "buckinghamshire-outpost-services-page1.json").read_text())["content"]


def serve_directory(
    server: PageServer, per_page: int, *, envelope: str = "oruk", base: str = "/api/v1"
) -> list[str]:
    """The recorded services re-paged ``per_page`` to a page, in ORUK's envelope (number,
    totalPages, first, last, content) or HSDS 3's (page_number, total_pages, first_page,
    last_page, contents), or with no page count at all; each full record at /services/{id}
    (service 1's as recorded, the others as listed). Returns the ids."""
    services = recorded_services()
    full = json.loads((ORUK / "buckinghamshire-outpost-service-1.json").read_text())
    pages = [services[at : at + per_page] for at in range(0, len(services), per_page)]
    total = len(pages)
    for number, content in enumerate([*pages, []], start=1):
        values = (number, per_page, total, len(services), number == 1, number == total, content)
        keys = ENVELOPES.get(envelope)
        page = dict(zip(keys, values, strict=True)) if keys else {"content": content}
        server.serve(f"{base}/services?page={number}&per_page={per_page}", Reply.json(page))
    for service in services:
        record = full if service["id"] == full["id"] else service
        server.serve(f"{base}/services/{service['id']}", Reply.json(record))
    return [str(service["id"]) for service in services]


def publication_read_today() -> bytes:
    """Trafford Council's real 360Giving package (tests/fixtures/published/giving360), its
    first 30 grants with the fields the provider_funding loader reads."""
    grants = json.loads((GIVING / "trafford-council-voluntary-sector-grants.json").read_text())
    kept = []
    for grant in grants["grants"][:30]:
        kept.append(
            {
                "id": grant["id"],
                "title": grant["title"],
                "currency": grant["currency"],
                "amountAwarded": grant["amountAwarded"],
                "awardDate": grant["awardDate"],
                "recipientOrganization": [
                    {key: grant["recipientOrganization"][0][key] for key in ("id", "name")}
                ],
                "fundingOrganization": [
                    {key: grant["fundingOrganization"][0][key] for key in ("id", "name")}
                ],
                "grantProgramme": grant.get("grantProgramme", []),
            }
        )
    return json.dumps({"grants": kept}).encode()
