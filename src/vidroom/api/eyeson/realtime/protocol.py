"""ActionCable's JSON wire protocol (``actioncable-v1-json``): the frames the server sends, and
the commands clients send, parsed defensively (spec §5.3)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

PROTOCOL = "actioncable-v1-json"
ACTIONCABLE_PREFIX = "actioncable-"
ROOM_CHANNEL = "RoomChannel"
USER_CHANNEL = "UserChannel"
MAX_IDENTIFIER = 1024

CommandName = Literal["subscribe", "unsubscribe", "message"]


class FrameError(ValueError):
    """A client frame that is not an ActionCable command."""


@dataclass(frozen=True)
class Command:
    command: CommandName
    identifier: str  # exactly as the client sent it: echoed byte for byte
    channel: str | None  # None: the identifier is not ``{"channel": "<name>", ...}``
    data: dict[str, Any] | None = None  # the decoded ``data`` of a ``message`` command


def choose_subprotocol(offered: list[str]) -> tuple[str | None, list[str]]:
    """The subprotocol to select, and the offered values that are not ActionCable's: an observer
    may pass its API key as a subprotocol (never echoed back as the selected one)."""
    selected = PROTOCOL if PROTOCOL in offered else None
    others = [value for value in offered if value and not value.startswith(ACTIONCABLE_PREFIX)]
    return selected, others


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def welcome() -> str:
    return _dump({"type": "welcome"})


def ping(unix_seconds: int) -> str:
    return _dump({"type": "ping", "message": unix_seconds})


def confirm(identifier: str) -> str:
    return _dump({"identifier": identifier, "type": "confirm_subscription"})


def reject(identifier: str) -> str:
    return _dump({"identifier": identifier, "type": "reject_subscription"})


def disconnect(reason: str, *, reconnect: bool = False) -> str:
    return _dump({"type": "disconnect", "reason": reason, "reconnect": reconnect})


def event(identifier: str, message: dict[str, Any]) -> str:
    return _dump({"identifier": identifier, "message": message})


def _channel_of(identifier: str) -> str | None:
    try:
        decoded = json.loads(identifier)
    except (ValueError, RecursionError):
        return None
    if not isinstance(decoded, dict):
        return None
    channel = decoded.get("channel")
    return channel if isinstance(channel, str) else None


def _data_of(raw: object) -> dict[str, Any]:
    """``data`` is a JSON-encoded object (an object itself is accepted too)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise FrameError("data is not JSON") from None
    if not isinstance(raw, dict):
        raise FrameError("data is not an object")
    return raw


def parse(text: str, *, max_size: int) -> Command:
    """One client frame, or ``FrameError`` saying what is wrong with it."""
    if len(text) > max_size:
        raise FrameError(f"frame of {len(text)} characters exceeds {max_size}")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError("frame is not JSON") from None
    if not isinstance(frame, dict):
        raise FrameError("frame is not an object")
    command = frame.get("command")
    if command not in ("subscribe", "unsubscribe", "message"):
        raise FrameError("unknown command")
    identifier = frame.get("identifier")
    if not isinstance(identifier, str) or not identifier:
        raise FrameError("identifier is not a string")
    if len(identifier) > MAX_IDENTIFIER:
        raise FrameError("identifier is too long")
    data = _data_of(frame.get("data")) if command == "message" else None
    return Command(command, identifier, _channel_of(identifier), data)
