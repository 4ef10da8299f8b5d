"""Meeting files through a real server: upload, ranged download, an oversized chunked upload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import LiveServer
from tests.files.conftest import png

LIMIT = 65536


def test_files_over_real_http(live_server: LiveServer) -> None:
    live_server.stop()
    live_server.env["VIDROOM_MAX_FILE_BYTES"] = str(LIMIT)
    live_server.start()
    live_server.cli("teams", "create", "acme", "--owner", "owner@example.com")
    key = live_server.cli("apikeys", "create", "--team", "acme").splitlines()[-1]
    files_dir = Path(live_server.env["VIDROOM_DATA_DIR"]) / "files"
    image = png(16, 16, padding=5000)

    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        started = http.post("/rooms", data={"user[name]": "Alice"}, headers={"Authorization": key})
        assert started.status_code == 201, started.text
        access_key = started.json()["access_key"]
        shared = http.post(
            f"/rooms/{access_key}/files", files={"file": ("big picture.png", image, "image/png")}
        )
        assert shared.status_code == 201, shared.text
        download = shared.json()["links"]["download"]
        assert download.startswith(live_server.url)

        whole = http.get(download)
        assert whole.status_code == 200
        assert whole.content == image
        part = http.get(download, headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206
        assert part.content == image[1000:2000]
        assert part.headers["content-range"] == f"bytes 1000-1999/{len(image)}"
        tail = http.get(download, headers={"Range": "bytes=-16"})
        assert tail.content == image[-16:]
        past = http.get(download, headers={"Range": f"bytes={len(image)}-"})
        assert past.status_code == 416
        assert past.headers["content-range"] == f"bytes */{len(image)}"

        boundary = "live-boundary"

        def chunked() -> Iterator[bytes]:
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                'filename="flood.txt"\r\nContent-Type: text/plain\r\n\r\n'
            ).encode()
            for _ in range(16):  # 1 MiB without a Content-Length
                yield b"a" * 65536
            yield f"\r\n--{boundary}--\r\n".encode()

        flood = http.post(
            f"/rooms/{access_key}/files",
            content=chunked(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert flood.status_code == 413
        assert flood.json()["error"] == f"the file exceeds {LIMIT} bytes"

    assert len(list(files_dir.iterdir())) == 1  # the picture; nothing of the flood
