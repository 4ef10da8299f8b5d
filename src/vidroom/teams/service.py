"""Use cases for teams: claim, membership, invite links, API keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.accounts.models import User
from vidroom.accounts.service import normalize_email
from vidroom.kit.clock import utc_now
from vidroom.kit.secrets import random_token, same, token_hash
from vidroom.teams import repository
from vidroom.teams.models import ApiKey, Membership, Role, Team
from vidroom.teams.names import check_team_name

INVITE_TOKEN_LENGTH = 12
API_KEY_LENGTH = 24


async def claim(session: AsyncSession, user: User, name: object) -> Team:
    """Create a team owned by ``user``."""
    name = check_team_name(name)
    if await repository.team_by_name(session, name) is not None:
        raise errors.conflict("team_name_taken", f"the team name '{name}' is taken")
    team = Team(name=name, name_key=name.lower(), invite_token=random_token(INVITE_TOKEN_LENGTH))
    session.add(team)
    try:
        await session.flush()
    except IntegrityError:
        raise errors.conflict("team_name_taken", f"the team name '{name}' is taken") from None
    session.add(Membership(team_id=team.id, user_id=user.id, role=Role.owner.value))
    await session.flush()
    return team


async def get(session: AsyncSession, name: str) -> Team:
    team = await repository.team_by_name(session, name) if len(name) <= 64 else None
    if team is None:
        raise errors.not_found("team_not_found", f"no team named '{name}'")
    return team


async def require_member(session: AsyncSession, team: Team, user: User) -> Membership:
    member = await repository.membership(session, team.id, user.id)
    if member is None:
        raise errors.forbidden("not_a_member", f"you are not a member of team '{team.name}'")
    return member


async def require_owner(session: AsyncSession, team: Team, user: User) -> Membership:
    member = await require_member(session, team, user)
    if member.role != Role.owner.value:
        raise errors.forbidden("not_an_owner", f"only owners of team '{team.name}' may do this")
    return member


async def members(session: AsyncSession, team: Team) -> Sequence[tuple[Membership, User]]:
    return await repository.members(session, team.id)


async def teams_of(session: AsyncSession, user: User) -> Sequence[tuple[Team, Membership]]:
    return await repository.teams_of(session, user.id)


async def join_by_invite(session: AsyncSession, user: User, invite_token: str) -> Team:
    """Add ``user`` to the team whose invite link carries ``invite_token`` (idempotent)."""
    if not invite_token or len(invite_token) != INVITE_TOKEN_LENGTH:
        raise errors.not_found("invite_invalid", "this invite link is not valid")
    team = await repository.team_by_invite(session, invite_token)
    if team is None or not same(team.invite_token, invite_token):
        raise errors.not_found("invite_invalid", "this invite link is not valid (any more)")
    if await repository.membership(session, team.id, user.id) is None:
        session.add(Membership(team_id=team.id, user_id=user.id, role=Role.member.value))
        await session.flush()
    return team


async def team_for_invite(session: AsyncSession, invite_token: str) -> Team | None:
    if not invite_token or len(invite_token) != INVITE_TOKEN_LENGTH:
        return None
    return await repository.team_by_invite(session, invite_token)


async def rotate_invite(session: AsyncSession, team: Team, actor: User) -> Team:
    await require_owner(session, team, actor)
    team.invite_token = random_token(INVITE_TOKEN_LENGTH)
    await session.flush()
    return team


async def remove_member(session: AsyncSession, team: Team, actor: User, email: str) -> None:
    """Owners remove anyone; a member may remove only themselves. The last owner stays."""
    actor_membership = await require_member(session, team, actor)
    try:
        email = normalize_email(email)
    except errors.VidroomError:
        raise errors.not_found("member_not_found", "no member with that email") from None
    target = next((pair for pair in await repository.members(session, team.id)
                   if pair[1].email == email), None)  # fmt: skip
    if target is None:
        raise errors.not_found("member_not_found", f"{email} is not a member of '{team.name}'")
    membership, user = target
    if user.id != actor.id and actor_membership.role != Role.owner.value:
        raise errors.forbidden("not_an_owner", "only owners may remove other members")
    if membership.role == Role.owner.value and await repository.count_owners(session, team.id) <= 1:
        raise errors.conflict("last_owner", "the last owner of a team cannot be removed")
    await session.delete(membership)
    await session.flush()


async def set_role(session: AsyncSession, team: Team, actor: User, email: str, role: Role) -> None:
    await require_owner(session, team, actor)
    email = normalize_email(email)
    pair = next(
        (p for p in await repository.members(session, team.id) if p[1].email == email), None
    )
    if pair is None:
        raise errors.not_found("member_not_found", f"{email} is not a member of '{team.name}'")
    membership = pair[0]
    if (
        membership.role == Role.owner.value
        and role is Role.member
        and await repository.count_owners(session, team.id) <= 1
    ):
        raise errors.conflict("last_owner", "the last owner of a team cannot step down")
    membership.role = role.value
    await session.flush()


# --- API keys for the meeting API -------------------------------------------------------------


async def create_api_key(
    session: AsyncSession, team: Team, actor: User | None, *, label: str = ""
) -> tuple[ApiKey, str]:
    """A new meeting-API key for ``team`` (``actor`` None: the operator's CLI). Shown once."""
    if actor is not None:
        await require_owner(session, team, actor)
    plaintext = random_token(API_KEY_LENGTH)
    row = ApiKey(
        team_id=team.id,
        key_hash=token_hash(plaintext),
        prefix=plaintext[:4],
        label=(label or "").strip()[:100],
    )
    session.add(row)
    await session.flush()
    return row, plaintext


async def list_api_keys(session: AsyncSession, team: Team, actor: User) -> Sequence[ApiKey]:
    await require_owner(session, team, actor)
    return await repository.api_keys_of(session, team.id)


async def revoke_api_key(session: AsyncSession, team: Team, actor: User, key_id: str) -> None:
    await require_owner(session, team, actor)
    for row in await repository.api_keys_of(session, team.id):
        if row.id == key_id:
            if row.revoked_at is None:
                row.revoked_at = utc_now()
                await session.flush()
            return
    raise errors.not_found("api_key_not_found", "no such API key")


async def team_for_api_key(session: AsyncSession, plaintext: str) -> tuple[Team, ApiKey]:
    """The team a live API key belongs to, else an ``unauthenticated`` error."""
    if not plaintext or len(plaintext) > 200:
        raise errors.unauthenticated("api_key_invalid", "invalid API key")
    digest = token_hash(plaintext)
    found = await repository.api_key_with_team(session, digest)
    if found is None:
        raise errors.unauthenticated("api_key_invalid", "invalid API key")
    row, team = found
    if row.revoked_at is not None or not same(row.key_hash, digest):
        raise errors.unauthenticated("api_key_invalid", "invalid API key")
    return team, row
