"""What every browser page shares: the templates, the page route (security headers), rendering,
error pages, redirects and the signed-in user."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from vidroom import __version__
from vidroom.accounts import service as accounts
from vidroom.accounts.models import User
from vidroom.api.deps import STATUS_BY_KIND, get_state
from vidroom.errors import VidroomError
from vidroom.rooms.models import Privacy
from vidroom.settings import Settings
from vidroom.web import security

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


# --- routes: every page response carries the security headers ----------------------------------


class PageRoute(APIRoute):
    """Adds the security headers to every response of a page handler."""

    extra_headers: ClassVar[dict[str, str]] = {}

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        headers = {**security.SECURITY_HEADERS, **self.extra_headers}

        async def with_headers(request: Request) -> Response:
            response = await handler(request)
            for name, value in headers.items():
                response.headers[name] = value
            return response

        return with_headers


class SecretUrlRoute(PageRoute):
    """For pages whose URL carries a secret (an access key): no Referer leaves them, ever."""

    extra_headers: ClassVar[dict[str, str]] = {"Referrer-Policy": "no-referrer"}


def page_router(route_class: type[PageRoute] = PageRoute) -> APIRouter:
    """A router of browser pages (kept out of the OpenAPI schema)."""
    return APIRouter(include_in_schema=False, route_class=route_class)


# --- rendering --------------------------------------------------------------------------------


@dataclass
class PageError:
    scope: str
    message: str


PRIVACY_CHOICES = [
    (Privacy.public.value, "Public: anyone with the link"),
    (Privacy.org.value, "Team: members only"),
    (Privacy.private.value, "Private: owners only"),
]


def settings_of(request: Request) -> Settings:
    return get_state(request).settings


def render(
    request: Request,
    name: str,
    user: User | None,
    status: int = 200,
    **context: Any,
) -> Response:
    settings = settings_of(request)
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


def status_of(exc: VidroomError) -> int:
    return STATUS_BY_KIND.get(exc.kind, 400)
