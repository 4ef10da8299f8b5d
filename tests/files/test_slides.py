"""PDF conversion: slides and thumbnails as pages finish, the file shape as it goes, failures;
images are one slide of themselves."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.files.conftest import PDF, png, stored
from tests.files.pdfs import BLUE, GREEN, RED, encrypted, pdf_of
from tests.files.test_upload import upload
from vidroom.files import conversion
from vidroom.settings import Settings


def near(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=False))


async def fetch_image(client: httpx.AsyncClient, url: str) -> Image.Image:
    response = await client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content)).convert("RGB")


async def converted(client: httpx.AsyncClient, room: str, file_id: str) -> dict[str, Any]:
    await conversion.wait_all()
    response = await client.get(f"/rooms/{room}/files/{file_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_pdf_pages_become_slides_and_thumbnails(
    client: httpx.AsyncClient, room: str, settings: Settings
) -> None:
    response = await upload(client, room, "deck.pdf", pdf_of([RED, GREEN, BLUE]), "application/pdf")
    assert response.status_code == 201, response.text
    first = response.json()
    assert (first["converted"], first["failed"], first["conversion_progress"]) == (False, False, 0)
    assert first["links"]["slides"] == []

    body = await converted(client, room, first["id"])
    assert (body["converted"], body["failed"], body["conversion_progress"]) == (True, False, 1)
    url = f"http://testserver/rooms/{room}/files/{first['id']}"
    assert body["links"]["slides"] == [f"{url}/slides/{i}" for i in range(3)]
    assert body["links"]["thumbnails"] == [f"{url}/thumbnails/{i}" for i in range(3)]
    for link, thumb, color in zip(
        body["links"]["slides"], body["links"]["thumbnails"], [RED, GREEN, BLUE], strict=True
    ):
        slide = await fetch_image(client, link)
        assert slide.size == (1280, 960)  # 400x300 points fitted into the canvas
        assert near(slide.getpixel((640, 480)), color)  # type: ignore[arg-type]
        small = await fetch_image(client, thumb)
        assert small.size == (240, 180)
        assert near(small.getpixel((120, 90)), color)  # type: ignore[arg-type]
    for bad in ("slides/3", "slides/-1", "slides/x", "thumbnails/9"):
        missing = await client.get(f"/rooms/{room}/files/{first['id']}/{bad}")
        assert missing.status_code == 404, bad
        assert missing.json()["error"]
    assert (await client.get(f"/rooms/nope/files/{first['id']}/slides/0")).status_code == 404

    # deleting the file removes its slides as well
    assert len(stored(settings)) == 7
    assert (await client.delete(f"/rooms/{room}/files/{first['id']}")).status_code == 200
    assert stored(settings) == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (PDF, "not a readable PDF"),  # a PDF signature and nothing PDFium can load
        (pdf_of([RED])[:400] + b"\n%%EOF\n", "not a readable PDF"),  # cut short
        (pdf_of([RED, GREEN, BLUE]), "more than the 2 allowed"),
        (encrypted(pdf_of([RED])), "encrypted"),
    ],
)
async def test_broken_or_too_long_pdf_fails(
    client: httpx.AsyncClient, room: str, settings: Settings, content: bytes, reason: str
) -> None:
    settings.slides_max_pages = 2
    response = await upload(client, room, "deck.pdf", content, "application/pdf")
    assert response.status_code == 201, response.text
    body = await converted(client, room, response.json()["id"])
    assert (body["converted"], body["failed"]) == (False, True)
    assert reason in body["error"]
    assert body["links"]["slides"] == []
    assert len(stored(settings)) == 1  # the upload itself; no partial slides


async def test_an_image_is_one_slide_of_itself(client: httpx.AsyncClient, room: str) -> None:
    response = await upload(client, room, "logo.png", png(), "image/png")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["converted"], body["failed"], body["conversion_progress"]) == (True, False, 1)
    assert body["links"]["slides"] == [body["links"]["self"] + "/slides/0"]
    slide = await client.get(body["links"]["slides"][0].removeprefix("http://testserver"))
    download = await client.get(body["links"]["download"].removeprefix("http://testserver"))
    assert slide.status_code == 200
    assert slide.content == download.content
    text = await upload(client, room, "notes.txt", b"hello", "text/plain")
    assert text.json()["links"]["slides"] == []
    assert text.json()["converted"] is True
