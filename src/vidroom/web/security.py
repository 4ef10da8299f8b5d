"""What keeps the browser pages safe: cookies, CSRF, form size limits, redirects, headers."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Message

from vidroom.kit.secrets import hmac_hex, same
from vidroom.settings import Settings

SESSION_COOKIE = "vidroom_session"
CSRF_COOKIE = "vidroom_csrf"
NOTICE_COOKIE = "vidroom_notice"
CSRF_FIELD = "csrf_token"

MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 32
MAX_NEXT_LENGTH = 2000
NOTICE_SECONDS = 60

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # every page is personal (sessions, invite links, one-time secrets): never cache one
    "Cache-Control": "no-store",
}

_CSRF_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")


class FormRejected(Exception):
    """A form post refused before any use case ran (size, CSRF, origin)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def set_cookie(
    response: Response, settings: Settings, name: str, value: str, *, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax"
    )


# --- CSRF: a random cookie, echoed by every form (double submit) -------------------------------


def csrf_token(request: Request) -> tuple[str, bool]:
    """The request's CSRF token and whether it is new (so the response must set the cookie)."""
    current = request.cookies.get(CSRF_COOKIE, "")
    if _CSRF_SHAPE.fullmatch(current):
        return current, False
    return secrets.token_urlsafe(32), True


def _check_origin(request: Request, settings: Settings) -> None:
    """A present Origin must be this site: the request's Host, or the configured public URL
    (behind a reverse proxy that passes its upstream Host)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    sent = urlsplit(origin)
    host = request.headers.get("host", "").lower()
    if host and sent.netloc.lower() == host:
        return
    public = urlsplit(settings.public_url) if settings.public_url else None
    if public is None or (sent.scheme, sent.netloc.lower()) != (
        public.scheme,
        public.netloc.lower(),
    ):
        raise FormRejected(
            403, "Request refused", "This form was sent from another site, so it was refused."
        )


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise FormRejected(400, "Bad request", "The request had an invalid Content-Length.")
        if int(declared) > MAX_FORM_BYTES:
            raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> FormRejected:
    return FormRejected(
        413, "Form too large", f"Forms may carry at most {MAX_FORM_BYTES // 1024} KiB."
    )


async def read_form(request: Request, settings: Settings) -> dict[str, str]:
    """The posted form's text fields, after the origin, size and CSRF checks."""
    _check_origin(request, settings)
    body = await _read_limited(request)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        parsed = await Request(request.scope, replay).form(max_files=0, max_fields=MAX_FORM_FIELDS)
    except StarletteHTTPException:
        raise FormRejected(400, "Bad request", "The form could not be read.") from None
    fields: dict[str, str] = {}
    for key, value in parsed.multi_items():
        if isinstance(value, UploadFile):
            raise FormRejected(400, "Bad request", "Files cannot be uploaded here.")
        fields.setdefault(key, value)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent_token = fields.pop(CSRF_FIELD, "")
    if not cookie or not sent_token or not same(cookie, sent_token):
        raise FormRejected(
            403,
            "Request refused",
            "The form's security token was missing or out of date. "
            "Go back, reload the page and try again.",
        )
    return fields


# --- redirects --------------------------------------------------------------------------------


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a path on this site (open-redirect safe), else None."""
    if not value or len(value) > MAX_NEXT_LENGTH:
        return None
    if not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


# --- one-time notices (flash messages), signed so no other page can plant one -----------------


def _notice_signature(settings: Settings, payload: str) -> str:
    return hmac_hex(settings.secret_key, b"vidroom-notice\0" + payload.encode("ascii"))


def set_notice(response: Response, settings: Settings, message: str) -> None:
    payload = base64.urlsafe_b64encode(message.encode("utf-8")).decode("ascii").rstrip("=")
    value = f"{payload}.{_notice_signature(settings, payload)}"
    set_cookie(response, settings, NOTICE_COOKIE, value, max_age=NOTICE_SECONDS)


def read_notice(request: Request, settings: Settings) -> str | None:
    raw = request.cookies.get(NOTICE_COOKIE)
    if not raw or len(raw) > 1000 or "." not in raw:
        return None
    payload, signature = raw.rsplit(".", 1)
    try:
        if not same(signature, _notice_signature(settings, payload)):
            return None
        return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8")
    except (UnicodeError, ValueError, binascii.Error):
        return None
