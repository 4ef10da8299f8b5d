"""Home, sign-up, log-in, log-out and invite links."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from vidroom.accounts import service as accounts
from vidroom.accounts.models import User
from vidroom.api.deps import get_state
from vidroom.errors import VidroomError
from vidroom.teams import service as teams
from vidroom.web import security
from vidroom.web.render import (
    PageError,
    current_user,
    error_page,
    page_router,
    redirect,
    render,
    settings_of,
    status_of,
)
from vidroom.web.security import FormRejected, read_form, safe_next

router = page_router()


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


async def _rotate_session(request: Request, session: AsyncSession, user: User) -> str:
    """End the browser's current session (if any) and open a new one for ``user``: a fresh
    session id at every log-in (no session fixation). Returns the new cookie value."""
    await accounts.close_web_session(session, request.cookies.get(security.SESSION_COOKIE))
    return await accounts.open_web_session(
        session, user, days=get_state(request).settings.session_days
    )


def _logged_in(request: Request, plaintext: str, next_path: str | None) -> Response:
    settings = settings_of(request)
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
            plaintext = await _rotate_session(request, uow.session, user)
    except VidroomError as exc:
        return await _auth_page(
            request,
            "login",
            next_path=next_path,
            values={"email": email},
            error=exc.message,
            status=status_of(exc),
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
            plaintext = await _rotate_session(request, uow.session, user)
    except VidroomError as exc:
        return await _auth_page(
            request,
            "signup",
            next_path=next_path,
            values={"email": email, "name": name},
            error=exc.message,
            status=status_of(exc),
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
