"""A real HTTP receiver on 127.0.0.1 (``http.server`` in a thread) that records every request.

Behaviour is set through attributes: ``fail_first`` requests answer 500, every request waits
``delay`` seconds before answering, ``status``/``body``/``headers`` shape the answer.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float = field(default_factory=time.monotonic)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up on a slow answer are expected here."""


class Receiver:
    def __init__(self, port: int = 0) -> None:
        self.requested_port = port
        self.records: list[Received] = []
        self.fail_first = 0
        self.delay = 0.0
        self.status = 200
        self.body = b"ok"
        self.headers: dict[str, str] = {}
        self._lock = threading.Lock()
        self._count = 0
        self.active = 0  # requests being answered right now
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            return self.requested_port
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if len(body) < length:
                    # the sender died mid-request (the crash tests kill it): like any HTTP
                    # server, take a truncated request for a broken one, not a delivery
                    self.close_connection = True
                    return
                with receiver._lock:
                    receiver._count += 1
                    receiver.active += 1
                    failing = receiver._count <= receiver.fail_first
                status = 500 if failing else receiver.status
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.active -= 1
                    receiver.records.append(
                        Received(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            status,
                        )
                    )
                answer = b"failing" if failing else receiver.body
                with contextlib.suppress(OSError):
                    self.send_response(status)
                    for name, value in receiver.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(answer)

            do_GET = _handle
            do_POST = _handle

        self._server = _Server(("127.0.0.1", self.requested_port), Handler)
        self.requested_port = self.port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def received(self, path: str | None = None, status: int | None = None) -> list[Received]:
        with self._lock:
            return [
                r
                for r in self.records
                if (path is None or r.path == path) and (status is None or r.status == status)
            ]
