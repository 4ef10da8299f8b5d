"""Use cases of meeting files: inspect and store an upload, list, read, rename, delete.

An upload is checked (size, content type against its bytes, name) and its bytes stored *before*
the database row is written, outside any transaction, so no transaction stays open while a large
file is copied; the edge deletes the stored bytes again when recording the row fails. Services
never commit.

A PDF is converted into slides in the background (``conversion.py``); a PNG or JPEG is a
one-slide presentation of itself; other files have no slides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO, Protocol

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.db.uow import UnitOfWork
from vidroom.files import content_types, conversion, repository
from vidroom.files.models import MeetingFile
from vidroom.files.storage import FileStorage, StoredBlob, too_large
from vidroom.meetings.models import Meeting, Participant

MAX_FILE_NAME = 200
MAX_EXTENSION = 16
MAX_FILES_PER_MEETING = 200
CHUNK = 256 * 1024
FALLBACK_NAME = "file"
# bidirectional overrides and marks: they make "gpj.exe" display as "exe.jpg"
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cs"})  # control characters, lone surrogates
_SPACES = frozenset({"Zl", "Zp"})


class Upload(Protocol):
    """A file as the HTTP layer received it (Starlette's ``UploadFile``)."""

    @property
    def filename(self) -> str | None: ...

    @property
    def content_type(self) -> str | None: ...

    @property
    def size(self) -> int | None: ...

    @property
    def file(self) -> BinaryIO: ...

    async def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class Policy:
    max_bytes: int
    allowed: frozenset[str]

    @classmethod
    def of(cls, max_bytes: int, allowed: Iterable[str]) -> Policy:
        return cls(max_bytes=max_bytes, allowed=content_types.allowed_set(allowed))


@dataclass(frozen=True)
class Inspected:
    name: str
    content_type: str


def clean_name(value: str | None) -> str | None:
    """A name safe to display and to put in a header: the last path segment, without control
    or bidi-override characters, at most :data:`MAX_FILE_NAME` characters (keeping the
    extension). None when nothing is left."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", value)
    text = "".join(
        " " if unicodedata.category(ch) in _SPACES else ch
        for ch in text
        if unicodedata.category(ch) not in _DROPPED_CATEGORIES
    )
    text = _BIDI.sub("", text)
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if text in ("", ".", ".."):
        return None
    if len(text) > MAX_FILE_NAME:
        stem, dot, extension = text.rpartition(".")
        if dot and stem and 0 < len(extension) <= MAX_EXTENSION:
            text = stem[: MAX_FILE_NAME - len(extension) - 1].rstrip() + "." + extension
        else:
            text = text[:MAX_FILE_NAME].rstrip()
    return text


async def inspect(upload: Upload, *, name: str | None, policy: Policy) -> Inspected:
    """The upload's display name and content type; 413 too large, 415 refused type, 400 empty."""
    if upload.size is not None and upload.size > policy.max_bytes:
        raise too_large(policy.max_bytes)
    if upload.size == 0:
        raise errors.invalid("empty_file", "the file is empty")
    original = clean_name(upload.filename)
    content_type = await anyio.to_thread.run_sync(
        partial(
            content_types.check,
            upload.file,
            part_type=upload.content_type,
            filename=original,
            allowed=policy.allowed,
        )
    )
    return Inspected(name=clean_name(name) or original or FALLBACK_NAME, content_type=content_type)


async def _chunks(upload: Upload) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


async def store(storage: FileStorage, upload: Upload, policy: Policy) -> StoredBlob:
    """Copy the upload into storage, in chunks, refusing past the size limit."""
    return await storage.put(_chunks(upload), limit=policy.max_bytes)


async def check_room(session: AsyncSession, meeting: Meeting) -> None:
    if await repository.count_of_meeting(session, meeting.id) >= MAX_FILES_PER_MEETING:
        raise errors.conflict(
            "too_many_files", f"a meeting holds at most {MAX_FILES_PER_MEETING} files"
        )


async def record(
    session: AsyncSession,
    meeting: Meeting,
    participant: Participant,
    inspected: Inspected,
    blob: StoredBlob,
) -> MeetingFile:
    await check_room(session, meeting)
    state = conversion.initial_state(inspected.content_type)
    return await repository.add(
        session,
        MeetingFile(
            meeting_id=meeting.id,
            participant_id=participant.id,
            name=inspected.name,
            content_type=inspected.content_type,
            size=blob.size,
            storage_key=blob.key,
            conversion=state,
            conversion_progress=0.0 if state == "converting" else 1.0,
            slide_keys=[],
        ),
    )


async def list_files(session: AsyncSession, meeting: Meeting) -> Sequence[MeetingFile]:
    return await repository.of_meeting(session, meeting.id)


async def get(session: AsyncSession, meeting: Meeting, file_id: str) -> MeetingFile:
    """A file of this meeting; 404 for any other (another meeting's file is not revealed)."""
    row = None
    if 0 < len(file_id) <= 64:
        row = await repository.in_meeting(session, meeting.id, file_id)
    if row is None:
        raise errors.not_found("file_not_found", "no such file in this meeting")
    return row


async def rename(
    session: AsyncSession, meeting: Meeting, file_id: str, name: str | None
) -> MeetingFile:
    row = await get(session, meeting, file_id)
    cleaned = clean_name(name)
    if cleaned is None:
        raise errors.invalid("missing_parameter", "name is required")
    row.name = cleaned
    await session.flush()
    return row


async def delete(uow: UnitOfWork, storage: FileStorage, meeting: Meeting, file_id: str) -> None:
    """Remove the row; the bytes go once the removal has committed."""
    row = await get(uow.session, meeting, file_id)
    keys = [row.storage_key, *(key for pair in row.slide_keys for key in pair)]
    await repository.remove(uow.session, row)

    async def remove_bytes() -> None:
        for key in keys:
            await storage.delete(key)

    uow.after_commit(remove_bytes)


def slide_key(row: MeetingFile, index: int, *, thumbnail: bool) -> str:
    """The storage key of a slide (or its thumbnail) of a converted file; an image is its own
    one slide. 404 for any other index, or while the file is not converted."""
    if row.conversion == "image" and index == 0:
        return row.storage_key
    if row.conversion == "converted" and 0 <= index < len(row.slide_keys):
        return str(row.slide_keys[index][1 if thumbnail else 0])
    raise errors.not_found("slide_not_found", "no such slide of this file")


def slide_count(row: MeetingFile) -> int:
    if row.conversion == "image":
        return 1
    return len(row.slide_keys) if row.conversion == "converted" else 0
