"""Use cases of snapshots: record a PNG the media server made, read, list, delete. Services
never commit; a new snapshot emits :class:`~vidroom.events.catalogue.SnapshotCreated`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.db.uow import UnitOfWork
from vidroom.events import catalogue as ev
from vidroom.meetings.models import Meeting, Participant
from vidroom.recordings.service import valid_id
from vidroom.snapshots.models import Snapshot

PAGE = 25
MAX_PER_MEETING = 500


async def record(
    uow: UnitOfWork,
    meeting: Meeting,
    participant: Participant,
    *,
    storage_key: str,
    size: int,
    width: int,
    height: int,
) -> Snapshot:
    row = Snapshot(
        meeting_id=meeting.id,
        team_id=meeting.team_id,
        participant_id=participant.id,
        storage_key=storage_key,
        size=size,
        width=width,
        height=height,
    )
    uow.session.add(row)
    await uow.session.flush()
    await uow.emit(
        ev.SnapshotCreated(team_id=meeting.team_id, meeting_id=meeting.id, snapshot_id=row.id)
    )
    return row


async def count_of_meeting(session: AsyncSession, meeting_id: str) -> int:
    result = await session.execute(select(Snapshot.id).where(Snapshot.meeting_id == meeting_id))
    return len(result.all())


async def check_room(session: AsyncSession, meeting: Meeting) -> None:
    if await count_of_meeting(session, meeting.id) >= MAX_PER_MEETING:
        raise errors.conflict(
            "too_many_snapshots", f"a meeting holds at most {MAX_PER_MEETING} snapshots"
        )


def _find(row: Snapshot | None, ok: bool) -> Snapshot:
    if row is None or not ok:
        raise errors.not_found("snapshot_not_found", "no such snapshot")
    return row


async def in_meeting(session: AsyncSession, meeting: Meeting, snapshot_id: str) -> Snapshot:
    row = await session.get(Snapshot, snapshot_id) if valid_id(snapshot_id) else None
    return _find(row, row is not None and row.meeting_id == meeting.id)


async def of_team(session: AsyncSession, team_id: str, snapshot_id: str) -> Snapshot:
    row = await session.get(Snapshot, snapshot_id) if valid_id(snapshot_id) else None
    return _find(row, row is not None and row.team_id == team_id)


async def of_meeting(session: AsyncSession, meeting_id: str) -> Sequence[Snapshot]:
    result = await session.execute(
        select(Snapshot).where(Snapshot.meeting_id == meeting_id).order_by(Snapshot.created_at)
    )
    return result.scalars().all()


async def listing(
    session: AsyncSession,
    team_id: str,
    *,
    meeting_ids: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    page: int,
    per_page: int = PAGE,
) -> Sequence[Snapshot]:
    query = select(Snapshot).where(Snapshot.team_id == team_id)
    if meeting_ids is not None:
        query = query.where(Snapshot.meeting_id.in_(meeting_ids))
    if since is not None:
        query = query.where(Snapshot.created_at >= since)
    if until is not None:
        query = query.where(Snapshot.created_at <= until)
    query = query.order_by(Snapshot.created_at.desc(), Snapshot.id)
    result = await session.execute(query.offset(page * per_page).limit(per_page))
    return result.scalars().all()


async def older_than(session: AsyncSession, when: datetime, limit: int = 200) -> Sequence[Snapshot]:
    result = await session.execute(select(Snapshot).where(Snapshot.created_at < when).limit(limit))
    return result.scalars().all()


async def remove(uow: UnitOfWork, row: Snapshot) -> str:
    key = row.storage_key
    await uow.session.delete(row)
    await uow.session.flush()
    return key
