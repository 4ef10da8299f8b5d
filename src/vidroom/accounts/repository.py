"""Every query on users, developer tokens and web sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.accounts.models import DeveloperToken, User, WebSession


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(User.email == email))
    return result.scalar_one_or_none()


async def user_by_id(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def token_by_hash(session: AsyncSession, digest: str) -> DeveloperToken | None:
    result = await session.execute(
        select(DeveloperToken).where(DeveloperToken.token_hash == digest)
    )
    return result.scalar_one_or_none()


async def tokens_of(session: AsyncSession, user_id: str) -> Sequence[DeveloperToken]:
    result = await session.execute(
        select(DeveloperToken)
        .where(DeveloperToken.user_id == user_id)
        .order_by(DeveloperToken.created_at.desc(), DeveloperToken.id)
    )
    return result.scalars().all()


async def web_session_by_hash(session: AsyncSession, digest: str) -> WebSession | None:
    result = await session.execute(select(WebSession).where(WebSession.token_hash == digest))
    return result.scalar_one_or_none()


async def delete_web_session(session: AsyncSession, digest: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == digest))


async def delete_expired_sessions(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(WebSession).where(WebSession.expires_at < now))
