"""Fixtures for meeting files: a small upload limit, running meetings, sample files."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import httpx
import pytest

from tests.api.eyeson.conftest import TeamKey, make_team_key
from vidroom.settings import Settings
from vidroom.state import AppState

LIMIT = 64 * 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.max_file_bytes = LIMIT
    return settings


@pytest.fixture
async def acme(state: AppState) -> TeamKey:
    return await make_team_key(state, "acme")


async def start_meeting(client: httpx.AsyncClient, key: TeamKey, room: str) -> str:
    """A new meeting's host access key."""
    response = await client.post(
        "/rooms", data={"id": room, "user[name]": "Alice"}, headers=key.auth
    )
    assert response.status_code == 201, response.text
    access_key: str = response.json()["access_key"]
    return access_key


@pytest.fixture
async def room(client: httpx.AsyncClient, acme: TeamKey) -> str:
    return await start_meeting(client, acme, "files-room")


def stored(settings: Settings) -> list[Path]:
    """Everything in the files folder, temporary files included."""
    if not settings.files_dir.exists():
        return []
    return sorted(settings.files_dir.iterdir())


def written_outside(root: Path, files_dir: Path) -> list[Path]:
    """Files under ``root`` other than stored files and the database's."""
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and p.parent != files_dir and "vidroom.db" not in p.name
    ]


def png(width: int = 1, height: int = 1, padding: int = 0) -> bytes:
    """A real PNG image (``padding`` bytes of an extra ancillary chunk make it larger)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    extra = chunk(b"tEXt", b"pad\x00" + b"x" * padding) if padding else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
TEXT = "Agenda\n1. numbers: 3.14\n2. café ☕\n".encode()


def zip_of(names: dict[str, bytes], *, first: tuple[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if first is not None:
            archive.writestr(zipfile.ZipInfo(first[0]), first[1])
        for name, data in names.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


DOCX = zip_of(
    {
        "[Content_Types].xml": b"<Types/>",
        "_rels/.rels": b"<Relationships/>",
        "word/document.xml": b"<w:document/>",
    }
)
ODT = zip_of(
    {"content.xml": b"<office:document-content/>"},
    first=("mimetype", b"application/vnd.oasis.opendocument.text"),
)
PLAIN_ZIP = zip_of({"notes.txt": b"hello"})


def multipart(*parts: tuple[bytes, bytes]) -> tuple[bytes, dict[str, str]]:
    """A hand-built multipart body (exact header bytes) and its Content-Type header."""
    boundary = b"vidroom-test-boundary-7f3a"
    body = b"".join(
        b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n"
        for headers, content in parts
    )
    body += b"--" + boundary + b"--\r\n"
    return body, {"Content-Type": "multipart/form-data; boundary=" + boundary.decode()}


def file_part(
    filename: bytes, content: bytes, content_type: bytes = b"text/plain"
) -> tuple[bytes, bytes]:
    headers = (
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: " + content_type
    )
    return headers, content
