"""``POST /rooms/<ak>/layout``: read and check the layout parameters, store them in the
meeting's options (``options_update``), and say how the media server should lay out the
composite (:func:`room_spec`)."""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.db.uow import UnitOfWork
from vidroom.events import catalogue as ev
from vidroom.kit.params import ParamError, get_bool, get_int, get_list, get_str
from vidroom.media.audio_insert import MODES as INSERT_MODES
from vidroom.media.contract import RoomSpec
from vidroom.media.layout import FITS, NAMED
from vidroom.meetings.models import Meeting, Participant
from vidroom.meetings.options import CHOICES

NAMES = tuple(NAMED)
MAX_BOXES = 10
MAX_USERS = 50
MAX_ID = 128
MAX_NAME = 100


def _bad(message: str) -> errors.VidroomError:
    return errors.invalid("invalid_parameter", message)


def _size(meeting: Meeting) -> tuple[int, int]:
    return (1280, 720) if meeting.options.get("widescreen") else (1280, 960)


def parse_map(raw: Any, size: tuple[int, int]) -> list[list[float | str]] | None:
    """``map``: a JSON string or a list of up to 10 boxes ``[x, y, w, h(, fit)]`` in canvas
    pixels; ``null``/empty: no map."""
    if isinstance(raw, str):
        if raw.strip() in ("", "null"):
            return None
        if len(raw) > 10_000:
            raise _bad("map is too long")
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _bad("map must be JSON: a list of [x, y, w, h, fit] boxes") from None
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise _bad("map must be a non-empty list of [x, y, w, h, fit] boxes")
    if len(raw) > MAX_BOXES:
        raise _bad(f"map has at most {MAX_BOXES} boxes")
    width, height = size
    boxes: list[list[float | str]] = []
    for index, box in enumerate(raw):
        if not isinstance(box, list) or len(box) not in (4, 5):
            raise _bad(f"map[{index}] must be [x, y, w, h] or [x, y, w, h, fit]")
        numbers: list[float] = []
        for value in box[:4]:
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    raise _bad(f"map[{index}] holds a non-number") from None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _bad(f"map[{index}] holds a non-number")
            if not math.isfinite(value) or value < 0:
                raise _bad(f"map[{index}] must hold finite numbers >= 0")
            numbers.append(float(value))
        x, y, w, h = numbers
        if w < 2 or h < 2 or x >= width or y >= height or w > width or h > height:
            raise _bad(f"map[{index}] must lie within the {width}x{height} canvas")
        fit = box[4] if len(box) == 5 else "auto"
        if fit not in FITS:
            raise _bad(f"map[{index}]'s fit must be one of: {', '.join(FITS)}")
        boxes.append([*numbers, str(fit)])
    return boxes


def parse(params: dict[str, Any], meeting: Meeting) -> dict[str, Any]:
    """The options the request changes (only what it sends)."""
    changes: dict[str, Any] = {}
    try:
        kind = get_str(params, "layout")
        name = get_str(params, "name")
        users = get_list(params, "users")
        voice = get_bool(params, "voice_activation")
        show_names = get_bool(params, "show_names")
        audio_insert = get_str(params, "audio_insert")
        insert_x = get_int(params, "audio_insert_position", "x")
        insert_y = get_int(params, "audio_insert_position", "y")
    except ParamError as exc:
        raise _bad(str(exc)) from None
    boxes = parse_map(params.get("map"), _size(meeting)) if "map" in params else None
    if kind is not None:
        if kind not in ("auto", "custom"):
            raise _bad("layout must be 'auto' or 'custom'")
        changes["layout"] = kind
    if name is not None and name != "":
        if len(name) > MAX_NAME:
            raise _bad("name is too long")
        if boxes is None and name not in NAMES:
            raise _bad(f"name must be one of: {', '.join(NAMES)} (or any name with a map)")
        changes["layout_name"] = name
    elif "name" in params or boxes is not None:
        changes["layout_name"] = None
    if "map" in params:
        changes["layout_map"] = boxes
    if users is not None:
        if len(users) > MAX_USERS:
            raise _bad(f"users has at most {MAX_USERS} entries")
        if any(len(u) > MAX_ID or "\x00" in u for u in users):
            raise _bad("users holds an invalid id")
        changes["layout_users"] = users
    if voice is not None:
        changes["voice_activation"] = voice
    if show_names is not None:
        changes["show_names"] = show_names
    if audio_insert is not None:
        if audio_insert not in CHOICES["audio_insert"]:
            raise _bad(f"audio_insert must be one of: {', '.join(CHOICES['audio_insert'])}")
        changes["audio_insert"] = audio_insert
    if insert_x is not None or insert_y is not None:
        for value in (insert_x, insert_y):
            if value is not None and not 0 <= value <= 1280:
                raise _bad("audio_insert_position must be within the canvas")
        changes["audio_insert_position"] = {"x": insert_x or 0, "y": insert_y or 0}
    return changes


async def change(uow: UnitOfWork, meeting: Meeting, changes: dict[str, Any]) -> None:
    """405 when ``layout_available`` is off; otherwise stored and announced."""
    if not meeting.options.get("layout_available", True):
        raise errors.VidroomError(
            errors.ErrorKind.not_allowed,
            "layout_unavailable",
            "changing the layout is not enabled for this meeting",
        )
    meeting.options = {**meeting.options, **changes}  # a new dict: the JSON column is saved
    await uow.session.flush()
    await uow.emit(
        ev.OptionsChanged(team_id=meeting.team_id, meeting_id=meeting.id, options=changes)
    )


async def room_spec(session: AsyncSession, meeting: Meeting) -> RoomSpec:
    """How the media server draws the meeting now: its look and its layout, ``layout_users``
    (user ids) as participant ids (an unknown id keeps its spot free)."""
    options = meeting.options or {}
    users = options.get("layout_users")
    spot_ids: list[str] | None = None
    if isinstance(users, list):
        wanted = [u for u in users if isinstance(u, str) and u]
        rows = (
            await session.execute(
                select(Participant.user_id, Participant.id).where(
                    Participant.meeting_id == meeting.id, Participant.user_id.in_(wanted)
                )
            )
        ).all()
        ids: dict[str, str] = {str(row[0]): str(row[1]) for row in rows}
        # a user's participant; anything else as it is (a playback's play_id takes its
        # spot; a placeholder is unknown to the media server and keeps the spot free)
        spot_ids = [ids.get(u, u) if isinstance(u, str) else "" for u in users]
    boxes = options.get("layout_map")
    insert = options.get("audio_insert")
    return RoomSpec(
        meeting_id=meeting.id,
        widescreen=bool(options.get("widescreen", False)),
        show_names=bool(options.get("show_names", True)),
        background_color=str(options.get("background_color") or "#121212"),
        layout="custom" if options.get("layout") == "custom" else "auto",
        layout_name=options.get("layout_name")
        if isinstance(options.get("layout_name"), str)
        else None,
        layout_map=boxes if isinstance(boxes, list) and boxes else None,
        layout_users=spot_ids,
        voice_activation=bool(options.get("voice_activation", False)),
        audio_insert=insert if insert in INSERT_MODES else "audio_only",
        audio_insert_position=_position(options.get("audio_insert_position")),
    )


def _position(value: object) -> list[int] | None:
    if not isinstance(value, dict):
        return None
    x, y = value.get("x"), value.get("y")
    if type(x) is int and type(y) is int:
        return [x, y]
    return None
