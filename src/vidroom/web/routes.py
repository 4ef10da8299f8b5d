"""Browser pages: sign-up, log-in, invite links, the dashboard and the room pages.

Server-rendered, no build step. Every POST is a form guarded by :func:`security.read_form`
(origin, size, CSRF); every use case runs in one unit of work; success redirects
(post-redirect-get), a failed use case re-renders the page with its message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from vidroom import __version__
from vidroom.accounts import service as accounts
from vidroom.accounts.models import DeveloperToken, User
from vidroom.api.deps import STATUS_BY_KIND, get_state
from vidroom.errors import VidroomError
from vidroom.rooms import service as rooms
from vidroom.rooms.models import Privacy
from vidroom.settings import Settings
from vidroom.teams import service as teams
from vidroom.teams.models import ApiKey, Role, Team
from vidroom.teams.names import RESERVED_TEAM_NAMES
from vidroom.web import security
from vidroom.web.security import FormRejected, read_form, safe_next

TEMPLATES_DIR = Path(__file__).parent / "templates"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = _when
templates = Jinja2Templates(env=_env)


# --- the room page's path: never a reserved first segment (/static, /docs, /domains...) ---------


class _TeamSegment(Convertor[str]):
    regex = (
        r"(?!(?i:"
        + "|".join(sorted(RESERVED_TEAM_NAMES, key=len, reverse=True))
        + r")(?:/|$))[A-Za-z0-9_-]{1,64}"
    )

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class _RoomSegment(_TeamSegment):
    regex = r"[A-Za-z0-9_-]{1,64}"


register_url_convertor("vidroom_team", _TeamSegment())
register_url_convertor("vidroom_room", _RoomSegment())


class _PageRoute(APIRoute):
    """Adds the security headers to every response of a page handler."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            response = await handler(request)
            for name, value in security.SECURITY_HEADERS.items():
                response.headers[name] = value
            return response

        return with_headers


router = APIRouter(include_in_schema=False, route_class=_PageRoute)


# --- views handed to the templates -------------------------------------------------------------


@dataclass
class RoomView:
    name: str
    path: str
    url: str
    pin: str
    privacy: str


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


@dataclass
class PageError:
    scope: str
    message: str


PRIVACY_CHOICES = [
    (Privacy.public.value, "Public: anyone with the link"),
    (Privacy.org.value, "Team: members only"),
    (Privacy.private.value, "Private: owners only"),
]


# --- plumbing ---------------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    return get_state(request).settings


def render(
    request: Request,
    name: str,
    user: User | None,
    status: int = 200,
    **context: Any,
) -> Response:
    settings = _settings(request)
    token, fresh = security.csrf_token(request)
    notice = security.read_notice(request, settings)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "csrf": token,
            "notice": notice,
            "version": __version__,
            "privacy_choices": PRIVACY_CHOICES,
            **context,
        },
        status_code=status,
    )
    if fresh:
        security.set_cookie(response, settings, security.CSRF_COOKIE, token)
    if security.NOTICE_COOKIE in request.cookies:
        security.clear_cookie(response, settings, security.NOTICE_COOKIE)
    return response


def error_page(
    request: Request, user: User | None, status: int, title: str, message: str
) -> Response:
    return render(request, "error.html", user, status, title=title, message=message)


def redirect(location: str, notice: str | None = None, *, settings: Settings) -> Response:
    response = RedirectResponse(location, status_code=303)
    if notice:
        security.set_notice(response, settings, notice)
    return response


def login_redirect(next_path: str) -> Response:
    return RedirectResponse("/login?" + urlencode({"next": next_path}), status_code=303)


async def current_user(session: AsyncSession, request: Request) -> User | None:
    return await accounts.user_for_web_session(
        session, request.cookies.get(security.SESSION_COOKIE)
    )


def _status(exc: VidroomError) -> int:
    return STATUS_BY_KIND.get(exc.kind, 400)


def _invite_link(settings: Settings, team: Team) -> str:
    return f"{settings.base_url}/invite?tk={team.invite_token}"


def _invite_token_in(next_path: str | None) -> str | None:
    """The invite token when ``next_path`` is an invite link's path."""
    if not next_path:
        return None
    parts = urlsplit(next_path)
    if parts.path != "/invite":
        return None
    values = parse_qs(parts.query).get("tk")
    return values[0] if values else None


# --- home, sign-up, log-in, log-out ------------------------------------------------------------


@router.get("/")
async def home(request: Request) -> Response:
    async with get_state(request).db.uow() as uow:
        user = await current_user(uow.session, request)
    return RedirectResponse("/dashboard" if user else "/login", status_code=303)


async def _auth_page(
    request: Request,
    which: str,
    *,
    next_path: str | None,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The log-in or sign-up page; for an invite link's ``next``, the invite page instead."""
    values = values or {}
    token = _invite_token_in(next_path)
    if token is not None:
        async with get_state(request).db.uow() as uow:
            team = await teams.team_for_invite(uow.session, token)
        if team is not None:
            return render(
                request,
                "invite.html",
                None,
                status,
                team_name=team.name,
                next=next_path,
                values=values,
                error=PageError(which, error) if error else None,
            )
    return render(
        request,
        f"{which}.html",
        None,
        status,
        next=next_path or "",
        values=values,
        error=PageError(which, error) if error else None,
    )


@router.get("/login")
async def login_page(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    async with get_state(request).db.uow() as uow:
        user = await current_user(uow.session, request)
    if user is not None:
        return RedirectResponse(next_path or "/dashboard", status_code=303)
    return await _auth_page(request, "login", next_path=next_path)


@router.get("/signup")
async def signup_page(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    async with get_state(request).db.uow() as uow:
        user = await current_user(uow.session, request)
    if user is not None:
        return RedirectResponse(next_path or "/dashboard", status_code=303)
    return await _auth_page(request, "signup", next_path=next_path)


def _logged_in(request: Request, plaintext: str, next_path: str | None) -> Response:
    settings = _settings(request)
    response = RedirectResponse(next_path or "/dashboard", status_code=303)
    security.set_cookie(
        response,
        settings,
        security.SESSION_COOKIE,
        plaintext,
        max_age=settings.session_days * 24 * 3600,
    )
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    try:
        form = await read_form(request, get_state(request).settings)
    except FormRejected as exc:
        return error_page(request, None, exc.status, exc.title, exc.message)
    next_path = safe_next(form.get("next"))
    email = form.get("email", "")
    state = get_state(request)
    try:
        async with state.db.uow() as uow:
            user = await accounts.log_in(
                uow.session, email=email, password=form.get("password", "")
            )
            await accounts.close_web_session(
                uow.session, request.cookies.get(security.SESSION_COOKIE)
            )
            plaintext = await accounts.open_web_session(
                uow.session, user, days=state.settings.session_days
            )
    except VidroomError as exc:
        return await _auth_page(
            request,
            "login",
            next_path=next_path,
            values={"email": email},
            error=exc.message,
            status=_status(exc),
        )
    return _logged_in(request, plaintext, next_path)


@router.post("/signup")
async def signup(request: Request) -> Response:
    try:
        form = await read_form(request, get_state(request).settings)
    except FormRejected as exc:
        return error_page(request, None, exc.status, exc.title, exc.message)
    next_path = safe_next(form.get("next"))
    email, name = form.get("email", ""), form.get("name", "")
    state = get_state(request)
    try:
        async with state.db.uow() as uow:
            user = await accounts.sign_up(
                uow.session, email=email, password=form.get("password", ""), name=name or None
            )
            await accounts.close_web_session(
                uow.session, request.cookies.get(security.SESSION_COOKIE)
            )
            plaintext = await accounts.open_web_session(
                uow.session, user, days=state.settings.session_days
            )
    except VidroomError as exc:
        return await _auth_page(
            request,
            "signup",
            next_path=next_path,
            values={"email": email, "name": name},
            error=exc.message,
            status=_status(exc),
        )
    return _logged_in(request, plaintext, next_path)


@router.post("/logout")
async def logout(request: Request) -> Response:
    try:
        await read_form(request, get_state(request).settings)
    except FormRejected as exc:
        return error_page(request, None, exc.status, exc.title, exc.message)
    state = get_state(request)
    async with state.db.uow() as uow:
        await accounts.close_web_session(uow.session, request.cookies.get(security.SESSION_COOKIE))
    response = redirect("/login", "You are logged out.", settings=state.settings)
    security.clear_cookie(response, state.settings, security.SESSION_COOKIE)
    return response


# --- invite links -----------------------------------------------------------------------------


@router.get("/invite")
async def invite(request: Request) -> Response:
    token = request.query_params.get("tk", "")
    state = get_state(request)
    async with state.db.uow() as uow:
        user = await current_user(uow.session, request)
        team = await teams.team_for_invite(uow.session, token)
        if team is None:
            return error_page(
                request,
                user,
                404,
                "Invite link not valid",
                "This invite link is not valid. The team may have replaced it with a new "
                "link: ask them for the current one.",
            )
        if user is None:
            return render(
                request,
                "invite.html",
                None,
                team_name=team.name,
                next="/invite?" + urlencode({"tk": token}),
                values={},
                error=None,
            )
        try:
            await teams.require_member(uow.session, team, user)
            notice = f"You are already a member of {team.name}."
        except VidroomError:
            team = await teams.join_by_invite(uow.session, user, token)
            notice = f"You joined {team.name}."
        anchor = f"#team-{team.name}"
    return redirect("/dashboard" + anchor, notice, settings=state.settings)


# --- the dashboard ----------------------------------------------------------------------------


async def _dashboard_context(
    session: AsyncSession, settings: Settings, user: User
) -> dict[str, Any]:
    team_views: list[TeamView] = []
    for team, membership in await teams.teams_of(session, user):
        is_owner = membership.role == Role.owner.value
        room_views = [
            RoomView(
                name=room.name,
                path=f"/{team.name}/{room.name}",
                url=f"{settings.base_url}/{team.name}/{room.name}",
                pin=room.dial_in_pin,
                privacy=room.privacy,
            )
            for room in await rooms.list_rooms(session, team)
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


def _secret_view(row: DeveloperToken | ApiKey) -> SecretView:
    return SecretView(
        id=row.id,
        prefix=row.prefix,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


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
            request, error=PageError(scope, exc.message), values=form, status=_status(exc)
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
            request, error=PageError(scope, exc.message), values=form, status=_status(exc)
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


# --- a room's page: must stay the last route -----------------------------------------------------


def _room_refusal(privacy: str, team: str) -> str:
    if privacy == Privacy.private.value:
        return f"This room is private: only owners of team {team} may enter."
    return f"This room is for members of team {team}."


@router.get("/{team:vidroom_team}/{room:vidroom_room}")
async def room_page(request: Request, team: str, room: str) -> Response:
    async with get_state(request).db.uow() as uow:
        user = await current_user(uow.session, request)
        try:
            found_team = await teams.get(uow.session, team)
            found_room = await rooms.get(uow.session, found_team, room)
        except VidroomError:
            return error_page(
                request, user, 404, "No such room", f"There is no room at /{team}/{room}."
            )
        allowed = await rooms.may_enter(uow.session, found_team, found_room, user)
        view = RoomView(
            name=found_room.name,
            path=f"/{found_team.name}/{found_room.name}",
            url=f"{_settings(request).base_url}/{found_team.name}/{found_room.name}",
            pin=found_room.dial_in_pin,
            privacy=found_room.privacy,
        )
        team_name = found_team.name
    if not allowed:
        if user is None:
            return login_redirect(request.url.path)
        return error_page(
            request, user, 403, "You may not enter", _room_refusal(view.privacy, team_name)
        )
    return render(request, "room.html", user, room=view, team_name=team_name)
