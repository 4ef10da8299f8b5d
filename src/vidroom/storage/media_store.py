"""The bytes of recordings and snapshots: :class:`MediaStore` is what the use cases need,
:class:`LocalMediaStore` keeps each item as one file under ``settings.media_dir``.

Keys are chosen here (``<kind>/<32 hex>.<ext>``), never derived from client input, so no name
reaches outside the folder. A recording is written by the media worker itself, at
:meth:`MediaStore.path_for` (workers run on this machine; the scale-out issue adds shared storage
behind the same interface); a snapshot's PNG is written here, atomically (temporary file, fsync,
rename). Disk I/O runs in worker threads, off the event loop.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from functools import partial
from pathlib import Path
from typing import Literal, Protocol

import anyio.to_thread

from vidroom import errors

Kind = Literal["recordings", "snapshots"]
_KEY = re.compile(r"(recordings|snapshots)/[0-9a-f]{32}\.(mp4|png)")


class MediaStore(Protocol):
    def new_key(self, kind: Kind, extension: str) -> str: ...

    def path_for(self, key: str) -> Path:
        """The local file of ``key`` (the media worker writes recordings there)."""
        ...

    async def prepare(self, key: str) -> None:
        """Make sure the folder of ``key`` exists."""
        ...

    async def write(self, key: str, data: bytes) -> int: ...

    async def size(self, key: str) -> int | None:
        """Bytes stored under ``key``; None when missing."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the bytes; a missing key is not an error."""
        ...

    async def total_bytes(self) -> int: ...


class LocalMediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def new_key(self, kind: Kind, extension: str) -> str:
        return f"{kind}/{secrets.token_hex(16)}.{extension}"

    def path_for(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise errors.not_found("file_not_found", "no such file")
        return self.root / key

    async def prepare(self, key: str) -> None:
        folder = self.path_for(key).parent
        await anyio.to_thread.run_sync(partial(folder.mkdir, parents=True, exist_ok=True))

    async def write(self, key: str, data: bytes) -> int:
        await self.prepare(key)
        return await anyio.to_thread.run_sync(_write_atomic, self.path_for(key), data)

    async def size(self, key: str) -> int | None:
        try:
            stat = await anyio.to_thread.run_sync(os.stat, self.path_for(key))
        except FileNotFoundError:
            return None
        return stat.st_size

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(_remove, self.path_for(key))

    async def total_bytes(self) -> int:
        return await anyio.to_thread.run_sync(_total, self.root)


def _write_atomic(path: Path, data: bytes) -> int:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".write-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        _remove(Path(temp))
        raise
    return len(data)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _total(root: Path) -> int:
    total = 0
    for kind in ("recordings", "snapshots"):
        folder = root / kind
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            with contextlib.suppress(FileNotFoundError):
                if entry.is_file():
                    total += entry.stat().st_size
    return total


def store_for(media_dir: Path) -> MediaStore:
    return LocalMediaStore(media_dir)
