"""What a meeting file is: its declared content type, checked against its bytes.

The declared type is the multipart part's ``Content-Type``; when that is missing or generic
(``application/octet-stream``) it is guessed from the file name's extension. The declared type must
be one of the allowed ones, and the bytes must agree with it:

* binary types: the magic numbers (sniffed with ``puremagic``, a pure-Python signature database)
  must list the declared type among their candidates; an executable renamed ``.png`` fails;
* OOXML (docx/xlsx/pptx) and ODF documents are ZIP files, which magic numbers cannot tell apart
  from any other ZIP: the archive must also hold the parts of the declared kind of document;
* text types have no magic number: the bytes must be UTF-8 text without control characters.

The functions here read a seekable binary file and block: call them off the event loop.
"""

from __future__ import annotations

import codecs
import mimetypes
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

import puremagic

from vidroom import errors

GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})

# other names clients and the signature database use for the same types
ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "audio/mp3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
    "audio/mpeg3": "audio/mpeg",
    "audio/x-mpeg-3": "audio/mpeg",
    "video/x-m4v": "video/mp4",
    "application/x-pdf": "application/pdf",
    "application/excel": "application/vnd.ms-excel",
    "application/x-excel": "application/vnd.ms-excel",
    "application/x-msexcel": "application/vnd.ms-excel",
    "application/mspowerpoint": "application/vnd.ms-powerpoint",
    "application/x-mspowerpoint": "application/vnd.ms-powerpoint",
    "application/vnd.msword": "application/msword",
    "application/x-msword": "application/msword",
    "text/x-csv": "text/csv",
    "application/csv": "text/csv",
}

_OOXML = "application/vnd.openxmlformats-officedocument."
# the folder every document of a kind has inside its ZIP
OOXML_PARTS = {
    _OOXML + "wordprocessingml.document": "word/",
    _OOXML + "spreadsheetml.sheet": "xl/",
    _OOXML + "presentationml.presentation": "ppt/",
}
ODF_PREFIX = "application/vnd.oasis.opendocument."

# guesses from extensions: Python's own table (not the machine's /etc/mime.types, so that every
# machine agrees) plus the office formats it lacks
_GUESSER = mimetypes.MimeTypes(filenames=())
for _extension, _type in {
    ".docx": _OOXML + "wordprocessingml.document",
    ".xlsx": _OOXML + "spreadsheetml.sheet",
    ".pptx": _OOXML + "presentationml.presentation",
    ".odt": ODF_PREFIX + "text",
    ".ods": ODF_PREFIX + "spreadsheet",
    ".odp": ODF_PREFIX + "presentation",
    ".md": "text/markdown",
}.items():
    _GUESSER.add_type(_type, _extension)

TEXT_SAMPLE = 64 * 1024
STRONG = 0.4  # puremagic's confidence for a signature of four bytes or more
# C0 controls (and DEL) other than tab, newline, vertical tab, form feed, carriage return, escape
_BINARY_BYTES = frozenset(set(range(0x00, 0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B}) | {0x7F}


def canonical(content_type: str | None) -> str:
    """``Image/JPG; charset=x`` → ``image/jpeg``; ``""`` for nothing."""
    if not content_type:
        return ""
    base = content_type.split(";", 1)[0].strip().lower()
    return ALIASES.get(base, base)


def allowed_set(configured: Iterable[str]) -> frozenset[str]:
    return frozenset(canonical(t) for t in configured if canonical(t))


def is_text(content_type: str) -> bool:
    return content_type.startswith("text/")


def declared_type(part_type: str | None, filename: str | None) -> str:
    """The type the client says the file has: its part's type, else its extension's; ``""`` when
    neither tells."""
    declared = canonical(part_type)
    if declared not in GENERIC:
        return declared
    if filename:
        guessed, _ = _GUESSER.guess_type(filename, strict=False)
        return canonical(guessed)
    return ""


def _unsupported(message: str) -> errors.VidroomError:
    return errors.VidroomError(errors.ErrorKind.unsupported, "unsupported_file_type", message)


@dataclass(frozen=True)
class Sniffed:
    """Candidate types from the magic numbers, most confident first (``[]``: unknown), and those
    matched by a signature of at least four bytes."""

    types: list[str]
    strong: list[str]

    def describe(self) -> str:
        return f"looks like {self.types[0]}" if self.types else "has no recognisable format"


def sniff(data: BinaryIO) -> Sniffed:
    data.seek(0)
    try:
        found = puremagic.magic_stream(data)
    except (puremagic.PureError, ValueError):
        found = []
    finally:
        data.seek(0)
    types: list[str] = []
    strong: list[str] = []
    for match in found:
        name = canonical(match.mime_type)
        if name and name not in types:
            types.append(name)
        if name and match.confidence >= STRONG and name not in strong:
            strong.append(name)
    return Sniffed(types, strong)


def _looks_like_text(data: BinaryIO) -> bool:
    data.seek(0)
    sample = data.read(TEXT_SAMPLE)
    data.seek(0)
    if any(byte in _BINARY_BYTES for byte in sample):
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)  # a character cut at the sample's end is fine
    except UnicodeDecodeError:
        return False
    return True


def _zip_names(data: BinaryIO) -> list[str] | None:
    data.seek(0)
    try:
        with zipfile.ZipFile(data) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    finally:
        data.seek(0)


def _odf_type(data: BinaryIO) -> str | None:
    """An OpenDocument file names its type in its first, uncompressed member ``mimetype``."""
    data.seek(0)
    try:
        with zipfile.ZipFile(data) as archive:
            infos = archive.infolist()
            if not infos or infos[0].filename != "mimetype" or infos[0].file_size > 200:
                return None
            return archive.read(infos[0]).decode("ascii", "replace").strip()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        return None
    finally:
        data.seek(0)


def _container_agrees(declared: str, data: BinaryIO) -> bool:
    if declared in OOXML_PARTS:
        names = _zip_names(data)
        folder = OOXML_PARTS[declared]
        return (
            names is not None
            and "[Content_Types].xml" in names
            and any(name.startswith(folder) for name in names)
        )
    if declared.startswith(ODF_PREFIX):
        return _odf_type(data) == declared
    return True


def check(
    data: BinaryIO, *, part_type: str | None, filename: str | None, allowed: frozenset[str]
) -> str:
    """The file's content type, once its bytes agree with it; 415 otherwise. Blocks."""
    declared = declared_type(part_type, filename)
    sniffed = sniff(data)
    if not declared:
        # nothing declared: take what the bytes say, if that is allowed
        declared = next((t for t in sniffed.types if t in allowed), "")
        if not declared and not sniffed.strong and _looks_like_text(data):
            declared = "text/plain"
        if not declared:
            raise _unsupported(
                "cannot tell the file's type: send it with a Content-Type or a known extension"
            )
    if declared not in allowed:
        raise _unsupported(
            f"files of type {declared} are not accepted (accepted: {', '.join(sorted(allowed))})"
        )
    if is_text(declared):
        # text has no magic number; a strong signature of something else contradicts it
        if not _looks_like_text(data) or (sniffed.strong and declared not in sniffed.strong):
            raise _unsupported(f"the file is declared as {declared} but is not plain UTF-8 text")
        return declared
    if declared not in sniffed.types or not _container_agrees(declared, data):
        raise _unsupported(
            f"the file is declared as {declared} but its content {sniffed.describe()}"
        )
    return declared
