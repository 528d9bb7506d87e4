"""A static server for the built site on 127.0.0.1, compressing text with gzip as GitHub Pages does.

Used by the checks that measure the site as a reader receives it (tests/test_lighthouse.py). It answers
only on the loopback interface, from a daemon thread, and stops when the `serve` block ends.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# What GitHub Pages compresses: text, scripts, styles, data and SVG; images and archives are sent as they are.
COMPRESSED = ("text/", "application/javascript", "application/json", "application/xml", "image/svg+xml")
CACHE_SECONDS = 600  # GitHub Pages' Cache-Control: max-age=600


class GzipFiles(SimpleHTTPRequestHandler):
    """Static files without a log; text is gzipped when the client accepts it; 404.html answers a miss."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._send(head=False)

    def do_HEAD(self) -> None:
        self._send(head=True)

    def _send(self, *, head: bool) -> None:
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?", 1)[0].endswith("/"):
                self.send_response(301)
                self.send_header("Location", self.path.split("?", 1)[0] + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path = path / "index.html"
        status = 200
        if not path.is_file():
            status, path = 404, Path(self.directory) / "404.html"
        body = path.read_bytes()
        kind = self.guess_type(str(path))
        if kind.startswith("text/") or kind == "application/javascript":
            kind += "; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Cache-Control", f"max-age={CACHE_SECONDS}")
        if kind.startswith(COMPRESSED) and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, mtime=0)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            # A browser that leaves a page before a file arrives (a click mid-load) hangs up: nothing to answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve `site` on 127.0.0.1 at a free port; yields the root URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(GzipFiles, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
