"""A local HTTP server for calendar feeds, on a free port of 127.0.0.1, for the tests of calendar import.

Each path answers as a `Feed` says: an iCal body (with an ETag, answering 304 to If-None-Match), a delay before
answering, a status, or a body of N bytes that never ends in a calendar. `hits` counts requests per path.
"""

import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Feed:
    body: bytes = b""
    status: int = 200
    delay: float = 0.0  # seconds before the headers
    size: int = 0  # send this many bytes of padding instead of `body` (a feed far too large)
    content_type: str = "text/calendar; charset=utf-8"
    location: str = ""
    drip: float = 0.0  # send the body a byte at a time, this many seconds apart
    with_etag: bool = True
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def etag(self) -> str:
        return f'"{hash(self.body) & 0xFFFFFFFF:x}"'


class FeedServer:
    def __init__(self):
        self.feeds: dict[str, Feed] = {}
        self.hits: Counter = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.hits[self.path] += 1
                feed = server.feeds.get(self.path)
                if feed is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                if feed.delay:
                    time.sleep(feed.delay)
                if feed.location:
                    self.send_response(feed.status or 302)
                    self.send_header("Location", feed.location)
                    self.end_headers()
                    return
                if (
                    feed.status == 200
                    and feed.with_etag
                    and not feed.size
                    and self.headers.get("If-None-Match") == feed.etag
                ):
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(feed.status)
                self.send_header("Content-Type", feed.content_type)
                if feed.size:  # no Content-Length: only counting what arrives tells how big it is
                    self.end_headers()
                    chunk = b"X" * 65536
                    try:
                        for _ in range(feed.size // len(chunk)):
                            self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                if feed.with_etag:
                    self.send_header("ETag", feed.etag)
                for name, value in feed.headers:
                    self.send_header(name, value)
                if feed.drip:  # no Content-Length, and a byte now and then
                    self.end_headers()
                    try:
                        for byte in feed.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(feed.drip)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                self.send_header("Content-Length", str(len(feed.body)))
                self.end_headers()
                self.wfile.write(feed.body)

            do_PROPFIND = do_REPORT = do_GET  # a server that says it speaks CalDAV and answers anything

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> "FeedServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def calendar(*events: str, extra: str = "") -> bytes:
    """A VCALENDAR around VEVENT texts (each without BEGIN/END), lines joined with CRLF."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//feeds//EN", *filter(None, extra.splitlines())]
    for event in events:
        lines += ["BEGIN:VEVENT", *[line.strip() for line in event.strip().splitlines()], "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()
