"""The dashboard: a person's teams, rooms, members, API keys and developer tokens, and its forms.

Every form runs its use case in one unit of work; success redirects to the dashboard section
(post-redirect-get), a failed use case re-renders the dashboard with its message there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from vidroom.accounts import service as accounts
from vidroom.accounts.models import DeveloperToken, User
from vidroom.api.deps import get_state
from vidroom.errors import VidroomError
from vidroom.rooms import service as rooms
from vidroom.settings import Settings
from vidroom.teams import service as teams
from vidroom.teams.models import ApiKey, Role, Team
from vidroom.web.render import (
    PageError,
    current_user,
    error_page,
    login_redirect,
    page_router,
    redirect,
    render,
    status_of,
)
from vidroom.web.room_page import RoomView, room_view
from vidroom.web.security import FormRejected, read_form

router = page_router()


# --- views handed to the template --------------------------------------------------------------


@dataclass
class MemberView:
    email: str
    name: str | None
    role: str
    is_me: bool


@dataclass
class SecretView:
    id: str
    prefix: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass
class TeamView:
    name: str
    role: str
    is_owner: bool
    invite_link: str
    rooms: list[RoomView]
    members: list[MemberView]
    api_keys: list[SecretView] = field(default_factory=list)


def _invite_link(settings: Settings, team: Team) -> str:
    return f"{settings.base_url}/invite?tk={team.invite_token}"


def _secret_view(row: DeveloperToken | ApiKey) -> SecretView:
    return SecretView(
        id=row.id,
        prefix=row.prefix,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


async def _dashboard_context(
    session: AsyncSession, settings: Settings, user: User
) -> dict[str, Any]:
    team_views: list[TeamView] = []
    for team, membership in await teams.teams_of(session, user):
        is_owner = membership.role == Role.owner.value
        room_views = [
            room_view(settings, team.name, room) for room in await rooms.list_rooms(session, team)
        ]
        member_views = [
            MemberView(email=u.email, name=u.name, role=m.role, is_me=u.id == user.id)
            for m, u in await teams.members(session, team)
        ]
        keys = await teams.list_api_keys(session, team, user) if is_owner else []
        team_views.append(
            TeamView(
                name=team.name,
                role=membership.role,
                is_owner=is_owner,
                invite_link=_invite_link(settings, team),
                rooms=room_views,
                members=member_views,
                api_keys=[_secret_view(k) for k in keys],
            )
        )
    tokens = [_secret_view(t) for t in await accounts.list_developer_tokens(session, user)]
    return {"teams": team_views, "tokens": tokens}


FIXED_SCOPES = {"profile", "new-team", "tokens"}


async def render_dashboard(
    request: Request,
    *,
    error: PageError | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    state = get_state(request)
    async with state.db.uow() as uow:
        user = await current_user(uow.session, request)
        if user is None:
            return login_redirect("/dashboard")
        context = await _dashboard_context(uow.session, state.settings, user)
    if error is not None:
        known = FIXED_SCOPES | {f"team-{t.name}" for t in context["teams"]}
        if error.scope not in known:
            error = PageError("page", error.message)
    return render(
        request, "dashboard.html", user, status, error=error, values=values or {}, **context
    )


@router.get("/dashboard")
async def dashboard(request: Request) -> Response:
    return await render_dashboard(request)


# --- the forms ---------------------------------------------------------------------------------

# an action returns its notice, or (notice, the dashboard section to land on)
Action = Callable[[AsyncSession, User, dict[str, str]], Awaitable[str | tuple[str, str]]]


async def _act(request: Request, scope: str, action: Action) -> Response:
    """Run a dashboard form's use case; redirect to the dashboard, or show the failure there."""
    state = get_state(request)
    try:
        form = await read_form(request, get_state(request).settings)
    except FormRejected as exc:
        return error_page(request, None, exc.status, exc.title, exc.message)
    try:
        async with state.db.uow() as uow:
            user = await current_user(uow.session, request)
            if user is None:
                return login_redirect("/dashboard")
            done = await action(uow.session, user, form)
    except VidroomError as exc:
        return await render_dashboard(
            request, error=PageError(scope, exc.message), values=form, status=status_of(exc)
        )
    notice, anchor = done if isinstance(done, tuple) else (done, scope)
    return redirect(f"/dashboard#{anchor}", notice, settings=state.settings)


SecretAction = Callable[[AsyncSession, User, dict[str, str]], Awaitable[tuple[str, str]]]


async def _act_secret(request: Request, scope: str, kind: str, action: SecretAction) -> Response:
    """Like :func:`_act` for a use case minting a secret: the result page shows it once."""
    state = get_state(request)
    try:
        form = await read_form(request, get_state(request).settings)
    except FormRejected as exc:
        return error_page(request, None, exc.status, exc.title, exc.message)
    try:
        async with state.db.uow() as uow:
            user = await current_user(uow.session, request)
            if user is None:
                return login_redirect("/dashboard")
            owner, secret = await action(uow.session, user, form)
    except VidroomError as exc:
        return await render_dashboard(
            request, error=PageError(scope, exc.message), values=form, status=status_of(exc)
        )
    # rendered only once the unit of work has committed: the secret shown really exists
    return render(
        request, "secret.html", user, kind=kind, owner=owner, secret=secret, back=f"#{scope}"
    )


@router.post("/dashboard/profile")
async def update_profile(request: Request) -> Response:
    async def action(session: AsyncSession, user: User, form: dict[str, str]) -> str:
        await accounts.update_profile(
            session, user, name=form.get("name"), avatar_url=form.get("avatar_url")
        )
        return "Your profile is saved."

    return await _act(request, "profile", action)


@router.post("/dashboard/teams")
async def create_team(request: Request) -> Response:
    async def action(session: AsyncSession, user: User, form: dict[str, str]) -> tuple[str, str]:
        team = await teams.claim(session, user, form.get("name", "").strip())
        return f"Team {team.name} created.", f"team-{team.name}"

    return await _act(request, "new-team", action)


@router.post("/dashboard/teams/{team}/rooms")
async def create_room(request: Request, team: str) -> Response:
    async def action(session: AsyncSession, user: User, form: dict[str, str]) -> str:
        found = await teams.get(session, team)
        room = await rooms.create(
            session,
            found,
            user,
            name=form.get("name", "").strip(),
            privacy=form.get("privacy") or None,
        )
        return f"Room {room.name} created."

    return await _act(request, f"team-{team}", action)


@router.post("/dashboard/teams/{team}/rooms/{room}/privacy")
async def set_room_privacy(request: Request, team: str, room: str) -> Response:
    async def action(session: AsyncSession, user: User, form: dict[str, str]) -> str:
        found = await teams.get(session, team)
        updated = await rooms.set_privacy(session, found, user, room, form.get("privacy", ""))
        return f"Room {updated.name} is now {updated.privacy}."

    return await _act(request, f"team-{team}", action)


@router.post("/dashboard/teams/{team}/rooms/{room}/delete")
async def delete_room(request: Request, team: str, room: str) -> Response:
    async def action(session: AsyncSession, user: User, form: dict[str, str]) -> str:
        found = await teams.get(session, team)
        await rooms.delete(session, found, user, room)
        return f"Room {room} deleted."

    return await _act(request, f"team-{team}", action)


@router.post("/dashboard/teams/{team}/invite")
async def rotate_invite(request: Request, team: str) -> Response:
    async def action(session: AsyncSession, user: User, form: dict[str, str]) -> str:
        found = await teams.get(session, team)
        await teams.rotate_invite(session, found, user)
        return f"Team {found.name} has a new invite link; the old one no longer works."

    return await _act(request, f"team-{team}", action)


@router.post("/dashboard/teams/{team}/members/remove")
async def remove_member(request: Request, team: str) -> Response:
    async def action(session: AsyncSession, user: User, form: dict[str, str]) -> str:
        found = await teams.get(session, team)
        email = form.get("email", "")
        await teams.remove_member(session, found, user, email)
        if email.strip().lower() == user.email:
            return f"You left {found.name}."
        return f"{email.strip()} was removed from {found.name}."

    return await _act(request, f"team-{team}", action)


@router.post("/dashboard/teams/{team}/api-keys")
async def create_api_key(request: Request, team: str) -> Response:
    async def action(session: AsyncSession, user: User, form: dict[str, str]) -> tuple[str, str]:
        found = await teams.get(session, team)
        _, plaintext = await teams.create_api_key(session, found, user, label=form.get("label", ""))
        return found.name, plaintext

    return await _act_secret(request, f"team-{team}", "api_key", action)


@router.post("/dashboard/teams/{team}/api-keys/{key_id}/revoke")
async def revoke_api_key(request: Request, team: str, key_id: str) -> Response:
    async def action(session: AsyncSession, user: User, form: dict[str, str]) -> str:
        found = await teams.get(session, team)
        await teams.revoke_api_key(session, found, user, key_id)
        return "The API key is revoked."

    return await _act(request, f"team-{team}", action)


@router.post("/dashboard/tokens")
async def create_token(request: Request) -> Response:
    async def action(session: AsyncSession, user: User, form: dict[str, str]) -> tuple[str, str]:
        _, plaintext = await accounts.create_developer_token(
            session, user, label=form.get("label", "")
        )
        return user.email, plaintext

    return await _act_secret(request, "tokens", "developer_token", action)


@router.post("/dashboard/tokens/{token_id}/revoke")
async def revoke_token(request: Request, token_id: str) -> Response:
    async def action(session: AsyncSession, user: User, form: dict[str, str]) -> str:
        await accounts.revoke_developer_token(session, user, token_id)
        return "The developer token is revoked."

    return await _act(request, "tokens", action)
