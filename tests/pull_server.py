"""A real HTTP server on 127.0.0.1 (a random port, in a thread) serving recorded pages, for the
pull tests: each address answers from a script of responses, honours If-None-Match and
If-Modified-Since when its response carries validators, and every request is logged."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PUBLISHED = Path(__file__).parent / "fixtures" / "published"


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    declare_length: bool = True  # False: no Content-Length, the body ends when the connection does

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


@contextmanager
def page_server() -> Iterator[PageServer]:
    pages = PageServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            reply = pages.reply_to(self.path, dict(self.headers.items()))
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
