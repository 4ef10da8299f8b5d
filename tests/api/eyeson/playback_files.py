"""What playback tests fetch: MP4 files made with PyAV, served by a real HTTP server on
127.0.0.1 (``http.server`` in a thread). ``/slow/...`` answers its file one small piece every
0.1 s, ``/missing`` 404."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import av
import numpy as np


def mp4(rgb: tuple[int, int, int], seconds: float, size: tuple[int, int] = (320, 240)) -> bytes:
    """A solid-colour H.264 MP4 of ``seconds`` at 15 fps."""
    out = io.BytesIO()
    fps = 15
    with av.open(out, "w", format="mp4") as container:
        stream: Any = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        picture = np.full((size[1], size[0], 3), rgb, dtype=np.uint8)
        for index in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return out.getvalue()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up on a slow answer are expected."""


class FileServer:
    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.requests: list[str] = []
        self._server: _Server | None = None

    def url(self, path: str) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    @contextmanager
    def running(self) -> Iterator[FileServer]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                slow = self.path.startswith("/slow/")
                found = owner.files.get(self.path.removeprefix("/slow"))
                if found is None:
                    self.send_error(404)
                    return
                body, kind = found
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                step = 1000 if slow else len(body) or 1
                for start in range(0, len(body), step):
                    self.wfile.write(body[start : start + step])
                    if slow:
                        self.wfile.flush()
                        time.sleep(0.1)

            def log_message(self, *args: object) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
