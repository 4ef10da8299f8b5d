"""The dashboard's recordings and snapshots of a team, ``/dashboard/teams/{team}/media``: for the
team's owners, newest first and paged, each with its signed download link (valid 1 h) and a
delete form (POST with the CSRF token). The rows come from the ``recordings`` and ``snapshots``
slices; a file is removed from the media store only once its row's deletion has committed.

A recording still running is not deleted here: it is stopped in the meeting first (the page
says so), since stopping needs the media server, which the meeting API drives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from vidroom import errors
from vidroom.accounts.models import User
from vidroom.api.deps import get_state
from vidroom.db.uow import UnitOfWork
from vidroom.errors import VidroomError
from vidroom.kit import signed_url
from vidroom.kit.params import ParamError, get_page
from vidroom.meetings.models import Meeting
from vidroom.recordings import service as recordings
from vidroom.recordings.models import Recording
from vidroom.settings import Settings
from vidroom.snapshots import service as snapshots
from vidroom.snapshots.models import Snapshot
from vidroom.storage.media_store import store_for
from vidroom.teams import service as teams
from vidroom.teams.models import Team
from vidroom.web.render import (
    current_user,
    error_page,
    login_redirect,
    page_router,
    redirect,
    render,
    status_of,
)
from vidroom.web.security import FormRejected, read_form

router = page_router()
PER_PAGE = 20
MAX_PAGE = 10_000

RECORDING_STATES = {
    "starting": "Starting",
    "recording": "Recording now",
    "stopped": "Being finished",
    "ready": "Ready",
    "failed": "Failed",
}


@dataclass
class RecordingView:
    id: str
    room: str
    created_at: datetime
    duration: str
    size: str
    state: str
    running: bool
    download: str | None


@dataclass
class SnapshotView:
    id: str
    room: str
    created_at: datetime
    size: str
    dimensions: str
    download: str


def _size(value: int | None) -> str:
    if not value:
        return ""
    if value < 1024 * 1024:
        return f"{max(1, round(value / 1024))} KB"
    return f"{value / (1024 * 1024):.1f} MB"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _link(settings: Settings, kind: str, item_id: str) -> str:
    return signed_url.link(settings.base_url, settings.ensure_secret_key(), kind, item_id)


async def _room_name(session: AsyncSession, meeting_id: str) -> str:
    meeting = await session.get(Meeting, meeting_id)
    return meeting.room_name if meeting is not None else ""


async def _recording_view(
    session: AsyncSession, settings: Settings, row: Recording
) -> RecordingView:
    return RecordingView(
        id=row.id,
        room=await _room_name(session, row.meeting_id),
        created_at=row.created_at,
        duration=_duration(row.duration),
        size=_size(row.size),
        state=RECORDING_STATES.get(row.state, row.state),
        running=row.stopped_at is None,
        download=_link(settings, "recordings", row.id) if recordings.downloadable(row) else None,
    )


async def _snapshot_view(session: AsyncSession, settings: Settings, row: Snapshot) -> SnapshotView:
    return SnapshotView(
        id=row.id,
        room=await _room_name(session, row.meeting_id),
        created_at=row.created_at,
        size=_size(row.size),
        dimensions=f"{row.width} x {row.height}" if row.width and row.height else "",
        download=_link(settings, "snapshots", row.id),
    )


async def _owned_team(session: AsyncSession, user: User, name: str) -> Team:
    team = await teams.get(session, name)
    await teams.require_owner(session, team, user)
    return team


def _page_of(request: Request) -> int:
    try:
        return get_page(dict(request.query_params), MAX_PAGE)
    except ParamError:
        raise errors.invalid(
            "invalid_parameter", f"page must be a whole number from 0 to {MAX_PAGE}"
        ) from None


async def _context(
    session: AsyncSession, settings: Settings, team: Team, page: int
) -> dict[str, Any]:
    # one more than a page: whether there is a next one
    rec_rows = await recordings.listing(
        session, team.id, meeting_ids=None, since=None, until=None, page=page, per_page=PER_PAGE
    )
    snap_rows = await snapshots.listing(
        session, team.id, meeting_ids=None, since=None, until=None, page=page, per_page=PER_PAGE
    )
    more = bool(
        await recordings.listing(
            session, team.id, meeting_ids=None, since=None, until=None,
            page=page + 1, per_page=PER_PAGE,
        )
        or await snapshots.listing(
            session, team.id, meeting_ids=None, since=None, until=None,
            page=page + 1, per_page=PER_PAGE,
        )
    )  # fmt: skip
    return {
        "team_name": team.name,
        "recordings": [await _recording_view(session, settings, r) for r in rec_rows],
        "snapshots": [await _snapshot_view(session, settings, s) for s in snap_rows],
        "page": page,
        "more": more,
    }


def media_path(team: str) -> str:
    return f"/dashboard/teams/{team}/media"


@router.get("/dashboard/teams/{team}/media")
async def media_page(request: Request, team: str) -> Response:
    state = get_state(request)
    async with state.db.uow() as uow:  # as the dashboard: the user stays loaded after it
        user = await current_user(uow.session, request)
        if user is None:
            return login_redirect(media_path(team))
        try:
            found = await _owned_team(uow.session, user, team)
            context = await _context(uow.session, state.settings, found, _page_of(request))
        except VidroomError as exc:
            return error_page(request, user, status_of(exc), "Not available", exc.message)
    return render(request, "media.html", user, **context)


async def _delete(request: Request, team: str, kind: str, item_id: str) -> Response:
    state = get_state(request)
    try:
        await read_form(request, state.settings)
    except FormRejected as exc:
        return error_page(request, None, exc.status, exc.title, exc.message)
    async with state.db.uow() as uow:
        user = await current_user(uow.session, request)
        if user is None:
            return login_redirect(media_path(team))
        try:  # a refusal changed nothing: the unit of work ends cleanly, the user stays loaded
            found = await _owned_team(uow.session, user, team)
            key, notice = await _remove(uow, found, kind, item_id)
        except VidroomError as exc:
            return error_page(request, user, status_of(exc), "Not deleted", exc.message)
    await store_for(state.settings.media_dir).delete(key)  # the row is gone: now its bytes
    return redirect(media_path(team), notice, settings=state.settings)


async def _remove(uow: UnitOfWork, team: Team, kind: str, item_id: str) -> tuple[str, str]:
    if kind == "recordings":
        row = await recordings.of_team(uow.session, team.id, item_id)
        if row.stopped_at is None:
            raise errors.not_acceptable(
                "recording_running", "the recording is still running: stop it in the meeting first"
            )
        return await recordings.remove(uow, row), "The recording was deleted."
    shot = await snapshots.of_team(uow.session, team.id, item_id)
    return await snapshots.remove(uow, shot), "The snapshot was deleted."


@router.post("/dashboard/teams/{team}/recordings/{item_id}/delete")
async def delete_recording(request: Request, team: str, item_id: str) -> Response:
    return await _delete(request, team, "recordings", item_id)


@router.post("/dashboard/teams/{team}/snapshots/{item_id}/delete")
async def delete_snapshot(request: Request, team: str, item_id: str) -> Response:
    return await _delete(request, team, "snapshots", item_id)
