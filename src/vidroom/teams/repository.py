"""Every query on teams, memberships and API keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.accounts.models import User
from vidroom.teams.models import ApiKey, Membership, Team


async def team_by_name(session: AsyncSession, name: str) -> Team | None:
    result = await session.execute(select(Team).where(Team.name_key == name.lower()))
    return result.scalar_one_or_none()


async def team_by_id(session: AsyncSession, team_id: str) -> Team | None:
    return await session.get(Team, team_id)


async def team_by_invite(session: AsyncSession, invite_token: str) -> Team | None:
    result = await session.execute(select(Team).where(Team.invite_token == invite_token))
    return result.scalar_one_or_none()


async def membership(session: AsyncSession, team_id: str, user_id: str) -> Membership | None:
    return await session.get(Membership, (team_id, user_id))


async def members(session: AsyncSession, team_id: str) -> Sequence[tuple[Membership, User]]:
    result = await session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.team_id == team_id)
        .order_by(Membership.created_at, User.email)
    )
    return [(m, u) for m, u in result.all()]


async def count_owners(session: AsyncSession, team_id: str) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(Membership)
        .where(Membership.team_id == team_id, Membership.role == "owner")
    )
    return int(result.scalar_one())


async def teams_of(session: AsyncSession, user_id: str) -> Sequence[tuple[Team, Membership]]:
    result = await session.execute(
        select(Team, Membership)
        .join(Membership, Membership.team_id == Team.id)
        .where(Membership.user_id == user_id)
        .order_by(Team.name_key)
    )
    return [(t, m) for t, m in result.all()]


async def api_key_with_team(session: AsyncSession, digest: str) -> tuple[ApiKey, Team] | None:
    """In one query: the API key with this hash and its team."""
    result = await session.execute(
        select(ApiKey, Team).join(Team, Team.id == ApiKey.team_id).where(ApiKey.key_hash == digest)
    )
    row = result.one_or_none()
    return None if row is None else (row[0], row[1])


async def api_keys_of(session: AsyncSession, team_id: str) -> Sequence[ApiKey]:
    result = await session.execute(
        select(ApiKey).where(ApiKey.team_id == team_id).order_by(ApiKey.created_at.desc())
    )
    return result.scalars().all()
