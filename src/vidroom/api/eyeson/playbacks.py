"""``POST /rooms/<ak>/playbacks`` and ``DELETE /rooms/<ak>/playbacks/<play_id>`` (spec §3.2): a
media file from a URL played into the composite (its own spot, or a user's), announced with
``playback_update``. Parameters come as ``playback[...]`` (forms, nested JSON) or flat."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response

from vidroom import errors
from vidroom.api.deps import StateDep
from vidroom.api.eyeson.errors import EyesonRoute
from vidroom.api.eyeson.media_access import media_of
from vidroom.api.eyeson.request import params
from vidroom.kit import outbound
from vidroom.kit.params import ParamError, get_bool, get_dict, get_int, get_str
from vidroom.kit.secrets import new_id
from vidroom.meetings import live
from vidroom.meetings import repository as meetings_repository
from vidroom.meetings.playbacks import FetchRules, Playback, Playbacks
from vidroom.state import AppState

router = APIRouter(route_class=EyesonRoute, tags=["meeting API"])

MAX_URL = outbound.MAX_URL
MAX_NAME = 255
MAX_LOOPS = 10_000
PLAY_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _bad(message: str) -> errors.VidroomError:
    return errors.invalid("invalid_parameter", message)


def _registry(request: Request, state: AppState) -> Playbacks:
    media_of(request)  # 503 without a media server
    if state.playbacks is None:
        raise errors.VidroomError(
            errors.ErrorKind.unavailable, "media_unavailable", "the media server is not running"
        )
    return state.playbacks


def _fields(p: dict[str, Any]) -> dict[str, Any]:
    """``playback[...]`` over the flat parameters (clients send one or the other)."""
    nested = get_dict(p, "playback") or {}
    return {**p, **nested}


def _play_id(value: str | None) -> str:
    if value is None or value == "":
        return new_id()
    if not PLAY_ID.fullmatch(value):
        raise _bad("play_id has 1 to 64 letters, digits, '_', '-', '.' or ':'")
    return value


def _name(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_NAME or _CONTROL.search(value):
        raise _bad(f"name has at most {MAX_NAME} characters and no control characters")
    return value.strip()


async def _url(value: str | None, allow_private: bool) -> str:
    if not value:
        raise errors.invalid("missing_parameter", "url (or playback[url]) is required")
    if len(value) > MAX_URL:
        raise _bad(f"url has at most {MAX_URL} characters")
    try:
        await outbound.resolve(value, allow_private=allow_private)
    except outbound.OutboundError as exc:  # RefusedURL, or a name that does not resolve
        raise _bad(f"url: {exc}") from None
    return value


@router.post(
    "/rooms/{access_key}/playbacks",
    status_code=201,
    responses={201: {"description": "no body"}},
    summary="Play a media file (MP4, WebM, MP3) from a URL into the meeting",
    description=(
        "`url` (http or https; required), `play_id` (generated when absent), `replacement_id` "
        "(a user whose tile it takes; else its own spot), `loop_count` (-1 forever, 0 once, "
        "N: N + 1 times), `audio`, `name`; flat or as `playback[...]`. The file is fetched "
        "after the answer: `playback_update` lists it once it plays; a failure brings an "
        "`error` event (`code` playback_failed). 409 when that `play_id` plays; 406 while "
        "nobody is in the call."
    ),
)
async def start_playback(access_key: str, request: Request, state: StateDep) -> Response:
    p = await params(request)
    try:
        f = _fields(p)
        url_value = get_str(f, "url")
        play_id = _play_id(get_str(f, "play_id"))
        replacement = get_str(f, "replacement_id") or None
        loop_count = get_int(f, "loop_count")
        audio = get_bool(f, "audio")
        name = _name(get_str(f, "name"))
    except ParamError as exc:
        raise _bad(str(exc)) from None
    loop_count = 0 if loop_count is None else loop_count
    if not -1 <= loop_count <= MAX_LOOPS:
        raise _bad(f"loop_count must be -1 (forever) to {MAX_LOOPS}")
    registry = _registry(request, state)
    async with state.db.reader() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        replaced = None
        if replacement is not None:
            replaced = await meetings_repository.participant_by_user_id(
                uow.session, meeting.id, replacement
            )
            if replaced is None:
                raise _bad("replacement_id is not a user of this meeting")
    url = await _url(url_value, state.settings.outbound_allow_private)
    if not media_of(request).members(meeting.id):
        raise errors.not_acceptable("nobody_in_call", "nobody is in the call yet: no playback")
    registry.start(
        Playback(
            team_id=meeting.team_id,
            meeting_id=meeting.id,
            play_id=play_id,
            url=url,
            name=name,
            replacement_id=replacement,
            replacement_participant=replaced.id if replaced is not None else None,
            loop_count=loop_count,
            audio=bool(audio),
        ),
        FetchRules(
            directory=state.settings.media_dir / "playbacks",
            max_bytes=state.settings.playback_max_bytes,
            allow_private=state.settings.outbound_allow_private,
        ),
    )
    return Response(status_code=201)


@router.delete(
    "/rooms/{access_key}/playbacks/{play_id}",
    status_code=200,
    responses={200: {"description": "no body"}},
    summary="Stop a playback (404 when it is not playing)",
)
async def stop_playback(
    access_key: str, play_id: str, request: Request, state: StateDep
) -> Response:
    registry = _registry(request, state)
    async with state.db.reader() as uow:
        meeting, _ = await live.access(uow.session, access_key)
    await registry.stop(meeting.id, play_id)
    return Response(status_code=200)
