"""Credentials of the meeting API: the team's API key as a raw ``Authorization`` header."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.teams import service as teams
from vidroom.teams.models import ApiKey, Team


def api_key_of(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    header = header.strip()
    if header[:7].lower() == "bearer ":  # lenient: some callers add the scheme
        header = header[7:].strip()
    return header or None


async def team_of(request: Request, session: AsyncSession) -> tuple[Team, ApiKey]:
    key = api_key_of(request)
    if key is None:
        raise errors.unauthenticated("api_key_missing", "an API key is needed (Authorization)")
    return await teams.team_for_api_key(session, key)
