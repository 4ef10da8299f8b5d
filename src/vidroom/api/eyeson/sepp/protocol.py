"""SEPP's wire format (eyeson-sepp.md §2, §3): one JSON envelope
``{type, msg_id, from, to, data}`` per text frame, parsed defensively, and the server's messages."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

# reject / terminate codes (eyeson-sepp.md §6.3)
OK = 200
BAD_REQUEST = 400
SESSION_IN_USE = 403
NOT_FOUND = 404
# the call's media is gone (its media worker died) but the meeting goes on: the official web
# client restarts its session on 404 (eyeson-sepp.md §6.3), the meeting page and the Python
# participant join again with a new peer connection
REJOIN = NOT_FOUND
GONE = 410
UNAVAILABLE = 503
MEETING_LOCKED = 607

SEPP_MESSAGING = "a=eyeson-sepp-messaging"
MAX_SDP = 64 * 1024

Message = dict[str, Any]


class EnvelopeError(ValueError):
    """A frame that is not a SEPP message."""


@dataclass(frozen=True)
class Envelope:
    type: str
    data: dict[str, Any]
    msg_id: str = ""
    sender: str | None = None  # ``from``
    to: str | None = None


def parse(text: str, *, max_size: int) -> Envelope:
    """One client frame, or ``EnvelopeError`` saying what is wrong with it. ``msg_id`` may be
    empty or missing (Android and gosepp send ``""``)."""
    if len(text) > max_size:
        raise EnvelopeError(f"frame of {len(text)} characters exceeds {max_size}")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise EnvelopeError("frame is not JSON") from None
    if not isinstance(frame, dict):
        raise EnvelopeError("frame is not an object")
    kind = frame.get("type")
    if not isinstance(kind, str) or not kind or len(kind) > 64:
        raise EnvelopeError("type is not a string")
    data = frame.get("data", {})
    if not isinstance(data, dict):
        raise EnvelopeError("data is not an object")
    msg_id = frame.get("msg_id", "")
    sender, to = frame.get("from"), frame.get("to")
    for name, value in (("msg_id", msg_id), ("from", sender), ("to", to)):
        if value is not None and not isinstance(value, str):
            raise EnvelopeError(f"{name} is not a string")
    return Envelope(kind, data, msg_id or "", sender, to)


def dump(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def envelope(kind: str, data: dict[str, Any], *, conf_id: str, client_id: str) -> str:
    """A server message: from the conference to the client, always with a string ``msg_id``."""
    return dump(
        {"type": kind, "msg_id": str(uuid.uuid4()), "from": conf_id, "to": client_id, "data": data}
    )


def offer_sdp(data: dict[str, Any]) -> str:
    """The SDP text of ``data.sdp`` (``{type: "offer", sdp}``), or ``EnvelopeError``."""
    sdp = data.get("sdp")
    if not isinstance(sdp, dict):
        raise EnvelopeError("sdp is not an object")
    if sdp.get("type") != "offer":
        raise EnvelopeError("sdp is not an offer")
    text = sdp.get("sdp")
    if not isinstance(text, str) or not text.strip():
        raise EnvelopeError("sdp.sdp is not a string")
    if len(text) > MAX_SDP:
        raise EnvelopeError("sdp is too large")
    if not text.lstrip().startswith("v=0") or "\nm=" not in text.replace("\r\n", "\n"):
        raise EnvelopeError("sdp is not a session description with media")
    if "\x00" in text:
        raise EnvelopeError("sdp contains a NUL character")
    return text


def with_sepp_messaging(sdp: str) -> str:
    """The answer with ``a=eyeson-sepp-messaging`` after ``t=``: clients then send
    ``mute_video`` over the websocket rather than the data channel (§5.2)."""
    if SEPP_MESSAGING in sdp:
        return sdp
    newline = "\r\n" if "\r\n" in sdp else "\n"
    lines = sdp.split(newline)
    for index, line in enumerate(lines):
        if line.startswith("t="):
            lines.insert(index + 1, SEPP_MESSAGING)
            return newline.join(lines)
    return sdp


def flag(data: dict[str, Any], name: str) -> bool | None:
    value = data.get(name)
    return value if isinstance(value, bool) else None


def text(data: dict[str, Any], name: str, limit: int = 200) -> str | None:
    value = data.get(name)
    if not isinstance(value, str) or len(value) > limit:
        return None
    return value
