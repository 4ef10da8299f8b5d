"""The pieces without HTTP: names, content types, local storage, settings."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from tests.files.conftest import DOCX, ELF, JPEG, PDF, PLAIN_ZIP, TEXT, png
from vidroom import errors
from vidroom.files import content_types
from vidroom.files.service import MAX_FILE_NAME, clean_name
from vidroom.files.storage import LocalFileStorage
from vidroom.settings import Settings

ALLOWED = content_types.allowed_set(Settings(env="test").file_types)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("report.pdf", "report.pdf"),
        ("  spaced name.pdf ", "spaced name.pdf"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("dir/sub/", None),
        ("line\u2028break.txt", "line break.txt"),
        ("lone\ud800surrogate", "lonesurrogate"),
        ("e\u0301te.txt", "\u00e9te.txt"),  # NFC
        ("\u2066isolate\u2069.txt", "isolate.txt"),
        ("👩‍💻 notes.txt", "👩‍💻 notes.txt"),  # joiners inside emoji stay
    ],
)
def test_clean_name(raw: str | None, expected: str | None) -> None:
    assert clean_name(raw) == expected


def test_clean_name_caps_length_keeping_the_extension() -> None:
    assert clean_name("a" * 500 + ".docx") == "a" * (MAX_FILE_NAME - 5) + ".docx"
    assert clean_name("a" * 500) == "a" * MAX_FILE_NAME
    assert clean_name("a" * 300 + "." + "b" * 100) == ("a" * 300 + "." + "b" * 100)[:MAX_FILE_NAME]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Image/JPG; charset=binary", "image/jpeg"),
        ("audio/mp3", "audio/mpeg"),
        ("application/excel", "application/vnd.ms-excel"),
        (None, ""),
        ("  text/plain ", "text/plain"),
    ],
)
def test_canonical(value: str | None, expected: str) -> None:
    assert content_types.canonical(value) == expected


def check(data: bytes, part_type: str | None, filename: str | None = None) -> str:
    return content_types.check(
        io.BytesIO(data), part_type=part_type, filename=filename, allowed=ALLOWED
    )


def test_check_accepts_matching_content() -> None:
    assert check(png(), "image/png") == "image/png"
    assert check(JPEG, None, "photo.JPG") == "image/jpeg"
    assert check(PDF, "application/octet-stream", "x.pdf") == "application/pdf"
    assert check(b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 64, "audio/mpeg") == "audio/mpeg"
    mp4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 64
    assert check(mp4, "video/mp4") == "video/mp4"
    assert check(b"GIF89a" + b"\x00" * 32, "image/gif") == "image/gif"
    assert check(b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 32, "image/webp") == "image/webp"
    ole = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 600
    assert check(ole, "application/msword") == "application/msword"
    assert check(DOCX, None, "a.docx").endswith("wordprocessingml.document")
    # a multibyte character cut by the sample's end is still text
    long_text = b"a" * (content_types.TEXT_SAMPLE - 1) + "é".encode()
    assert check(long_text, "text/plain") == "text/plain"


def test_check_refuses_contradictions() -> None:
    for data, part_type, filename in [
        (ELF, "image/png", None),
        (ELF, None, "x.png"),
        (ELF, "text/plain", None),
        (PLAIN_ZIP, None, "x.xlsx"),
        (DOCX, None, "x.xlsx"),  # a word document is not a spreadsheet
        (b"not a zip at all", None, "x.pptx"),
        (png(), "application/pdf", None),
        (TEXT, "image/gif", None),
        (b"\x00\x01\x02", None, None),
        (b"plain", "application/x-sh", None),
    ]:
        with pytest.raises(errors.VidroomError) as caught:
            check(data, part_type, filename)
        assert caught.value.kind is errors.ErrorKind.unsupported, (part_type, filename)


def test_allowed_types_are_configurable() -> None:
    only_text = content_types.allowed_set(["text/plain"])
    with pytest.raises(errors.VidroomError):
        content_types.check(
            io.BytesIO(png()), part_type="image/png", filename=None, allowed=only_text
        )
    assert (
        content_types.check(io.BytesIO(TEXT), part_type=None, filename=None, allowed=only_text)
        == "text/plain"
    )


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings(env="test")
    assert defaults.max_file_bytes == 25_000_000
    assert {"image/png", "application/pdf", "text/plain", "video/mp4"} <= set(defaults.file_types)
    monkeypatch.setenv("VIDROOM_MAX_FILE_BYTES", "1000")
    monkeypatch.setenv("VIDROOM_FILE_TYPES", '["image/png", "application/pdf"]')
    configured = Settings(env="test")
    assert configured.max_file_bytes == 1000
    assert configured.file_types == ["image/png", "application/pdf"]


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_storage_round_trip(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "files")
    blob = await storage.put(_chunks(b"hello ", b"world"), limit=100)
    assert blob.size == 11
    assert storage.path(blob.key).read_bytes() == b"hello world"
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == [blob.key]
    stat = await storage.stat(blob.key)
    assert stat is not None
    assert stat.st_size == 11
    other = await storage.put(_chunks(b"hello world"), limit=100)
    assert other.key != blob.key  # keys are random, never derived from content or names
    await storage.delete(blob.key)
    await storage.delete(blob.key)  # twice is fine
    assert await storage.stat(blob.key) is None


async def test_storage_refuses_foreign_keys(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "files")
    for key in ("../secret", "/etc/passwd", "", "A" * 32, "0" * 31, "0" * 32 + "/x"):
        with pytest.raises(errors.VidroomError):
            storage.path(key)
        with pytest.raises(errors.VidroomError):
            await storage.delete(key)


async def test_storage_limit_leaves_nothing(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "files")
    with pytest.raises(errors.VidroomError) as caught:
        await storage.put(_chunks(b"a" * 60, b"a" * 60), limit=100)
    assert caught.value.kind is errors.ErrorKind.too_large
    assert list((tmp_path / "files").iterdir()) == []


async def test_storage_failure_and_cancellation_leave_nothing(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "files")

    async def failing() -> AsyncIterator[bytes]:
        yield b"partial"
        raise OSError("client went away")

    with pytest.raises(OSError, match="went away"):
        await storage.put(failing(), limit=100)
    assert list((tmp_path / "files").iterdir()) == []

    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"x" * 1024
            await anyio.sleep(0.01)

    with anyio.move_on_after(0.1):
        await storage.put(endless(), limit=10**9)
    assert list((tmp_path / "files").iterdir()) == []
