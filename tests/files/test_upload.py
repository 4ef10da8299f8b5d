"""POST /rooms/<access_key>/files: encodings, limits, content-type checks, hostile names."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.files.conftest import (
    DOCX,
    ELF,
    JPEG,
    LIMIT,
    ODT,
    PDF,
    PLAIN_ZIP,
    TEXT,
    file_part,
    multipart,
    png,
    stored,
    written_outside,
)
from vidroom.files import service as files_service
from vidroom.settings import Settings

HEX24 = re.compile(r"^[0-9a-f]{24}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def check_file(body: dict[str, Any], access_key: str) -> None:
    """The spec's file shape (an image: one slide, itself; see test_slides.py)."""
    assert set(body) >= {"id", "name", "type", "converted", "conversion_progress", "failed"}
    assert HEX24.match(body["id"])
    assert body["converted"] is True
    assert body["conversion_progress"] == 1.0
    assert body["failed"] is False
    assert ISO.match(body["created_at"])
    url = f"http://testserver/rooms/{access_key}/files/{body['id']}"
    slides = 1 if body["type"] in ("image/png", "image/jpeg") else 0
    assert body["links"] == {
        "self": url,
        "slides": [f"{url}/slides/0"] * slides,
        "thumbnails": [f"{url}/thumbnails/0"] * slides,
        "download": f"{url}/download",
    }


async def upload(
    client: httpx.AsyncClient,
    access_key: str,
    filename: str,
    content: bytes,
    content_type: str | None = "text/plain",
    **data: str,
) -> httpx.Response:
    part = (filename, content) if content_type is None else (filename, content, content_type)
    return await client.post(f"/rooms/{access_key}/files", files={"file": part}, data=data)


async def test_multipart_without_name(
    client: httpx.AsyncClient, room: str, settings: Settings
) -> None:
    image = png(4, 4)
    response = await upload(client, room, "diagram.png", image, "image/png")
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    check_file(body, room)
    assert body["name"] == "diagram.png"
    assert body["type"] == "image/png"
    assert body["size"] == len(image)
    [blob] = stored(settings)
    assert re.fullmatch(r"[0-9a-f]{32}", blob.name)  # a random key, not the client's name
    assert blob.read_bytes() == image


async def test_multipart_with_name(client: httpx.AsyncClient, room: str) -> None:
    response = await upload(client, room, "scan0001.pdf", PDF, "application/pdf", name="Q3 plan")
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Q3 plan"
    assert response.json()["type"] == "application/pdf"


async def test_name_in_query_string(client: httpx.AsyncClient, room: str) -> None:
    response = await client.post(
        f"/rooms/{room}/files",
        params={"name": "from query"},
        files={"file": ("a.txt", TEXT, "text/plain")},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "from query"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"json": {"name": "x"}}, "file is required"),
        ({"json": {"file": "aGVsbG8="}}, "file is required"),
        ({"data": {"file": "hello", "name": "x"}}, "file is required"),
        ({"files": {"name": (None, "only a name")}}, "file is required"),
        ({"files": {"document": ("a.txt", b"hello", "text/plain")}}, "file is required"),
        ({}, "file is required"),
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, "JSON"),
    ],
    ids=[
        "json",
        "json-file-string",
        "urlencoded",
        "multipart-no-file",
        "wrong-field",
        "empty",
        "bad-json",
    ],
)
async def test_no_file_is_400(
    client: httpx.AsyncClient, room: str, kwargs: dict[str, Any], message: str
) -> None:
    response = await client.post(f"/rooms/{room}/files", **kwargs)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]


async def test_two_files_and_broken_multipart_are_400(
    client: httpx.AsyncClient, room: str, settings: Settings
) -> None:
    body, headers = multipart(file_part(b"a.txt", b"one"), file_part(b"b.txt", b"two"))
    response = await client.post(f"/rooms/{room}/files", content=body, headers=headers)
    assert response.status_code == 400
    response = await client.post(
        f"/rooms/{room}/files",
        content=b"--x\r\ngarbage",
        headers={"Content-Type": "multipart/form-data"},  # no boundary
    )
    assert response.status_code == 400
    assert stored(settings) == []


async def test_empty_file_is_400(client: httpx.AsyncClient, room: str) -> None:
    response = await upload(client, room, "empty.txt", b"")
    assert response.status_code == 400
    assert "empty" in response.json()["error"]


async def test_size_limit(client: httpx.AsyncClient, room: str, settings: Settings) -> None:
    exact = await upload(client, room, "exact.txt", b"a" * LIMIT)
    assert exact.status_code == 201, exact.text
    before = stored(settings)
    response = await upload(client, room, "big.txt", b"a" * (LIMIT + 1))
    assert response.status_code == 413
    assert str(LIMIT) in response.json()["error"]
    assert stored(settings) == before  # nothing left behind, no temporary file


async def test_oversized_declared_length_refused_unread(
    client: httpx.AsyncClient, room: str, settings: Settings
) -> None:
    # past the request parser's own bound on a declared Content-Length
    response = await upload(client, room, "huge.txt", b"a" * (LIMIT * 20))
    assert response.status_code == 413
    assert stored(settings) == []


async def test_oversized_chunked_body_stopped_while_streaming(
    client: httpx.AsyncClient, room: str, settings: Settings
) -> None:
    """No Content-Length: the body is cut off once it passes the limit."""
    head, headers = multipart(file_part(b"stream.txt", b""))
    opening = head[: head.index(b"\r\n--vidroom-test-boundary-7f3a--")]
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield opening
        for _ in range(64):  # 4 MiB, far past the limit
            sent += 1
            yield b"a" * 65536
        yield b"\r\n--vidroom-test-boundary-7f3a--\r\n"

    response = await client.post(f"/rooms/{room}/files", content=body(), headers=headers)
    assert response.status_code == 413
    assert sent < 8  # stopped early, not read to the end
    assert stored(settings) == []


@pytest.mark.parametrize(
    ("filename", "content", "content_type", "expected"),
    [
        ("photo.jpg", JPEG, "image/jpg", "image/jpeg"),  # alias
        ("photo.jpg", JPEG, "application/octet-stream", "image/jpeg"),  # from the extension
        ("picture", png(), None, "image/png"),  # sniffed: nothing declared
        ("notes", TEXT, None, "text/plain"),  # no signature, but text
        (
            "report.docx",
            DOCX,
            None,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "minutes.odt",
            ODT,
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.text",
        ),
        ("data.csv", b"a,b\n1,2\n", "text/csv; charset=utf-8", "text/csv"),
    ],
)
async def test_accepted_types(
    client: httpx.AsyncClient,
    room: str,
    filename: str,
    content: bytes,
    content_type: str | None,
    expected: str,
) -> None:
    if content_type is None:
        body, headers = multipart(
            (
                f'Content-Disposition: form-data; name="file"; filename="{filename}"'.encode(),
                content,
            )
        )
        response = await client.post(f"/rooms/{room}/files", content=body, headers=headers)
    else:
        response = await upload(client, room, filename, content, content_type)
    assert response.status_code == 201, response.text
    assert response.json()["type"] == expected


@pytest.mark.parametrize(
    ("filename", "content", "content_type", "message"),
    [
        ("tool.png", ELF, "image/png", "declared as image/png"),  # an executable renamed .png
        ("tool.png", ELF, "application/octet-stream", "declared as image/png"),
        ("tool.exe", ELF, "application/x-msdownload", "not accepted"),
        ("tool", ELF, None, "cannot tell"),
        ("page.html", b"<!DOCTYPE html><html></html>", "text/html", "not accepted"),
        ("bundle.zip", PLAIN_ZIP, "application/zip", "not accepted"),
        ("report.docx", PLAIN_ZIP, None, "declared as application/vnd.openxml"),  # a zip
        ("minutes.odt", DOCX, None, "declared as application/vnd.oasis"),
        ("photo.jpg", png(), "image/jpeg", "looks like image/png"),
        ("notes.txt", ELF, "text/plain", "not plain UTF-8 text"),
        ("notes.txt", b"caf\xe9 latin-1", "text/plain", "not plain UTF-8 text"),
        ("notes.txt", PDF, "text/plain", "not plain UTF-8 text"),  # a strong signature
        ("doc.pdf", b"just some text pretending", "application/pdf", "no recognisable format"),
    ],
)
async def test_refused_types(
    client: httpx.AsyncClient,
    room: str,
    settings: Settings,
    filename: str,
    content: bytes,
    content_type: str | None,
    message: str,
) -> None:
    if content_type is None:
        body, headers = multipart(
            (
                f'Content-Disposition: form-data; name="file"; filename="{filename}"'.encode(),
                content,
            )
        )
        response = await client.post(f"/rooms/{room}/files", content=body, headers=headers)
    else:
        response = await upload(client, room, filename, content, content_type)
    assert response.status_code == 415, response.text
    assert message in response.json()["error"]
    assert stored(settings) == []


@pytest.mark.parametrize(
    ("raw_name", "expected"),
    [
        (b"../../etc/passwd", "passwd"),
        (b"..\\..\\windows\\win.ini", "win.ini"),
        (b"/etc/shadow", "shadow"),
        (b"..", "file"),
        (b"a\x00b.txt", "ab.txt"),
        (b"tab\there\x1b.txt", "tabhere.txt"),
        ("résumé 📄.txt".encode(), "résumé 📄.txt"),
        ("cod\u202egpj.exe".encode(), "codgpj.exe"),  # no right-to-left override
        (b"x" * 4000 + b".txt", "x" * 196 + ".txt"),
    ],
    ids=[
        "dotdot",
        "backslash",
        "absolute",
        "only-dots",
        "nul",
        "controls",
        "unicode",
        "bidi",
        "4kB",
    ],
)
async def test_hostile_filenames_stored_safely(
    client: httpx.AsyncClient,
    room: str,
    settings: Settings,
    tmp_path: Path,
    raw_name: bytes,
    expected: str,
) -> None:
    body, headers = multipart(file_part(raw_name, TEXT))
    response = await client.post(f"/rooms/{room}/files", content=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == expected
    [blob] = stored(settings)
    assert blob.parent == settings.files_dir
    assert blob.read_bytes() == TEXT
    # nothing written anywhere else under the test's folder, except the database
    assert written_outside(tmp_path, settings.files_dir) == []


async def test_10kb_filename_refused_by_the_multipart_parser(
    client: httpx.AsyncClient, room: str, settings: Settings
) -> None:
    """python-multipart caps a part header at about 4 kB: such a part is refused whole."""
    body, headers = multipart(file_part(b"x" * 10_000 + b".txt", TEXT))
    response = await client.post(f"/rooms/{room}/files", content=body, headers=headers)
    assert response.status_code == 400
    assert stored(settings) == []


async def test_hostile_name_parameter(client: httpx.AsyncClient, room: str) -> None:
    response = await upload(client, room, "a.txt", TEXT, name="../../x/" + "é" * 300)
    assert response.status_code == 201
    assert response.json()["name"] == "é" * 200
    response = await upload(client, room, "a.txt", TEXT, name="y" * 10_000 + ".pdf")
    assert response.status_code == 201
    assert response.json()["name"] == "y" * 196 + ".pdf"
    # a name that cleans to nothing falls back on the file's own name
    response = await upload(client, room, "b.txt", TEXT, name="\x01\x02")
    assert response.json()["name"] == "b.txt"
    response = await client.post(
        f"/rooms/{room}/files",
        files={"file": ("c.txt", TEXT, "text/plain"), "name": (None, "bad\x00name")},
    )
    assert response.status_code == 400  # NUL in a parameter is refused by the parser


async def test_files_per_meeting_are_capped(
    client: httpx.AsyncClient, room: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files_service, "MAX_FILES_PER_MEETING", 2)
    for n in range(2):
        assert (await upload(client, room, f"{n}.txt", TEXT)).status_code == 201
    response = await upload(client, room, "3.txt", TEXT)
    assert response.status_code == 409
    assert "at most 2 files" in response.json()["error"]
