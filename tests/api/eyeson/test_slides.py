"""Slides end to end: a PDF uploaded through the files route is converted (``files_update`` on
/rt as pages finish), presented (POST ``slide``), moved to the next page (PUT), seen by a real
aiortc participant in the big spot, and ended; bad slides are refused with a 400."""

# ruff: noqa: F811 - the fixtures imported below are parameters of the tests
from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PIL import Image

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.realtime.conftest import Cable
from tests.api.eyeson.sepp.conftest import SeppServer
from tests.api.eyeson.test_layout import join, near, rgb_at, until_frame
from tests.client.conftest import GREEN, RED, _loopback, media_server  # noqa: F401 - fixtures
from tests.files.pdfs import pdf_of
from vidroom.files import conversion

YELLOW, BLUE, PURPLE, CYAN = (230, 220, 30), (40, 60, 220), (200, 40, 200), (30, 210, 220)


def png(rgb: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, rgb).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def image_host() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1: ``/slide.png`` (cyan), ``/text`` (not an image)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = (
                (png(CYAN), "image/png") if self.path == "/slide.png" else (b"hi", "text/plain")
            )
            self.send_response(200 if self.path in ("/slide.png", "/text") else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def big_spot(rgb: tuple[int, int, int]) -> Any:
    """The presenter's big spot (top, 1280x768 of 1280x960) shows ``rgb`` and bob's strip."""
    return lambda f: near(rgb_at(f, 0.5, 0.4), rgb) and near(rgb_at(f, 0.5, 0.9), GREEN)


async def converted_file(cable: Cable, http: Any, ak: str, content: bytes) -> dict[str, Any]:
    """Upload a PDF and follow its ``files_update`` messages until it is converted."""
    r = await http.post(
        f"/rooms/{ak}/files", files={"file": ("deck.pdf", content, "application/pdf")}
    )
    assert r.status_code == 201, r.text
    progress = []
    while True:
        update = await cable.message("files_update", wait=20)
        (file,) = update["files"]
        assert file["id"] == r.json()["id"]
        progress.append(file["conversion_progress"])
        if file["converted"]:
            assert progress == sorted(progress)
            return dict(file)
        assert not file["failed"], file


async def test_pdf_slides_presented_and_moved(
    media_server: SeppServer,
    acme: TeamKey,
    image_host: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conversion, "PUBLISH_EVERY_S", 0.0)  # every page announced
    alice, room = await join(media_server, acme, "alice", RED)
    bob, bob_room = await join(media_server, acme, "bob", GREEN)
    http = media_server.http
    ak, bob_ak = room["access_key"], bob_room["access_key"]
    base = media_server.base.replace("http://", "ws://")
    cable = await Cable.open(f"{base}/rt?access_key={ak}")
    try:
        await cable.joined()
        file = await converted_file(cable, http, ak, pdf_of([YELLOW, BLUE, PURPLE]))
        slides = file["links"]["slides"]
        assert len(slides) == 3

        r = await http.post(f"/rooms/{ak}/presentation", data={"slide": slides[0]})
        assert r.status_code == 201, r.text
        update = await cable.message("presentation_update", wait=10)
        assert update["presentation"]["user"]["id"] == "alice"
        assert update["presentation"]["slide"] == slides[0]
        await until_frame(bob, big_spot(YELLOW))

        r = await http.put(f"/rooms/{ak}/presentation", data={"slide": slides[1]})
        assert r.status_code == 200, r.text
        assert (await cable.message("presentation_update", wait=10))["presentation"]["slide"] == (
            slides[1]
        )
        await until_frame(bob, big_spot(BLUE))

        # only the presenter moves the slides; nobody else starts presenting meanwhile
        for method in ("POST", "PUT"):
            r = await http.request(
                method, f"/rooms/{bob_ak}/presentation", data={"slide": slides[2]}
            )
            assert r.status_code == 409, r.text
            assert r.json()["error"]

        # an external image, fetched under the outbound rules (127.0.0.1 allowed here)
        media_server.state.settings.outbound_allow_private = True
        r = await http.put(f"/rooms/{ak}/presentation", data={"slide": f"{image_host}/slide.png"})
        assert r.status_code == 200, r.text
        assert (await cable.message("presentation_update", wait=10))["presentation"]["slide"] == (
            f"{image_host}/slide.png"
        )
        await until_frame(bob, big_spot(CYAN))
        media_server.state.settings.outbound_allow_private = False

        # back to alice's own video (a screen share would show here), still presenting
        assert (await http.post(f"/rooms/{ak}/presentation")).status_code == 201
        assert (await cable.message("presentation_update", wait=10))["presentation"][
            "slide"
        ] is None
        await until_frame(bob, big_spot(RED))

        assert (await http.delete(f"/rooms/{ak}/presentation")).status_code == 200
        assert (await cable.message("presentation_update", wait=10))["presentation"] is None
        await until_frame(
            bob, lambda f: near(rgb_at(f, 0.25, 0.5), RED) and near(rgb_at(f, 0.75, 0.5), GREEN)
        )
        r = await http.put(f"/rooms/{ak}/presentation", data={"slide": slides[2]})
        assert r.status_code == 404, r.text  # nobody presents
    finally:
        await cable.close()
        for p in (alice, bob):
            await p.close()


async def test_bad_slides_are_refused(
    media_server: SeppServer, acme: TeamKey, image_host: str
) -> None:
    alice, room = await join(media_server, acme, "alice", RED)
    other, other_room = await join(media_server, acme, "olga", GREEN)
    http = media_server.http
    ak = room["access_key"]
    try:
        r = await http.post(f"/rooms/{ak}/files", files={"file": ("a.txt", b"hello", "text/plain")})
        text = r.json()
        r = await http.post(f"/rooms/{ak}/files", files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n")})
        broken = r.json()
        r = await http.post("/rooms", data={"id": "r2", "user[name]": "carl"}, headers=acme.auth)
        second = r.json()
        r = await http.post(
            f"/rooms/{second['access_key']}/files",
            files={"file": ("p.png", png(BLUE), "image/png")},
        )
        foreign = r.json()
        assert foreign["links"]["slides"], foreign
        await conversion.wait_all()
        cases = [
            "not a url",
            "ftp://example.com/x.png",
            f"{image_host}/slide.png",  # a private address (not allowed by default)
            text["links"]["download"],  # our own link, but not a slide
            text["links"]["self"] + "/slides/0",  # a file without slides
            broken["links"]["self"] + "/slides/0",  # a failed conversion
            foreign["links"]["slides"][0],  # another meeting's file
            foreign["links"]["slides"][0].replace(second["access_key"], ak),
        ]
        for slide in cases:
            r = await http.post(f"/rooms/{ak}/presentation", data={"slide": slide})
            assert r.status_code == 400, (slide, r.text)
            assert r.json()["error"], slide
        media_server.state.settings.outbound_allow_private = True
        for slide in (f"{image_host}/text", f"{image_host}/missing.png"):
            r = await http.post(f"/rooms/{ak}/presentation", data={"slide": slide})
            assert r.status_code == 400, (slide, r.text)
        assert (await http.put(f"/rooms/{ak}/presentation")).status_code == 400  # no slide
        assert (await http.post("/rooms/nope/presentation", data={"slide": "x"})).status_code == 404
        # nothing was shown: someone else may still present
        assert (
            await http.post(f"/rooms/{other_room['access_key']}/presentation")
        ).status_code == 201
    finally:
        await asyncio.gather(alice.close(), other.close())
