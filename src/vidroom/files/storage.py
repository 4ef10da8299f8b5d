"""Where the bytes of meeting files live.

:class:`FileStorage` is what the use cases need; :class:`LocalFileStorage` keeps each file as one
plain file under ``settings.files_dir``. Keys are random hex strings chosen here, never derived
from anything a client sends, so no name can reach outside the folder. A write goes to a temporary
file in the same folder, is flushed to disk, then renamed into place (``os.replace``, atomic): a
reader sees the whole file or nothing, and a failed or oversized write leaves nothing behind.
All disk I/O runs in worker threads, off the event loop.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import AsyncIterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

import anyio
import anyio.to_thread

from vidroom import errors

KEY_BYTES = 16
_KEY = re.compile(r"[0-9a-f]{32}")
TEMP_PREFIX = ".upload-"


@dataclass(frozen=True)
class StoredBlob:
    key: str
    size: int


def too_large(limit: int) -> errors.VidroomError:
    return errors.VidroomError(
        errors.ErrorKind.too_large, "file_too_large", f"the file exceeds {limit} bytes"
    )


class FileStorage(Protocol):
    """Blob storage for meeting files."""

    async def put(self, chunks: AsyncIterable[bytes], *, limit: int) -> StoredBlob:
        """Store the chunks under a new key; 413 (and nothing kept) past ``limit`` bytes."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the bytes; a missing key is not an error."""
        ...

    async def stat(self, key: str) -> os.stat_result | None:
        """The stored file's status, or None when it is missing."""
        ...

    def path(self, key: str) -> Path:
        """The local file to serve (downloads use ``FileResponse``, which handles Range)."""
        ...


class LocalFileStorage:
    """Files in one folder on local disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise errors.not_found("file_not_found", "no such file")
        return self.root / key

    async def put(self, chunks: AsyncIterable[bytes], *, limit: int) -> StoredBlob:
        await anyio.to_thread.run_sync(partial(self.root.mkdir, parents=True, exist_ok=True))
        key = secrets.token_hex(KEY_BYTES)
        fd, temp_name = await anyio.to_thread.run_sync(
            partial(tempfile.mkstemp, dir=self.root, prefix=TEMP_PREFIX)
        )
        temp = Path(temp_name)
        try:
            size = 0
            async with await anyio.open_file(fd, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise too_large(limit)
                    await out.write(chunk)
                await out.flush()
                await anyio.to_thread.run_sync(os.fsync, out.wrapped.fileno())
            await anyio.to_thread.run_sync(os.replace, temp, self.root / key)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_remove, temp)
            raise
        return StoredBlob(key=key, size=size)

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(_remove, self.path(key))

    async def stat(self, key: str) -> os.stat_result | None:
        try:
            return await anyio.to_thread.run_sync(os.stat, self.path(key))
        except FileNotFoundError:
            return None


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def storage_for(files_dir: Path) -> FileStorage:
    return LocalFileStorage(files_dir)
