"""Shared dependencies for the HTTP edges."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from vidroom import errors
from vidroom.state import AppState


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.vidroom
    return state


async def _state(request: Request) -> AppState:
    # async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, a thread
    # hand-off on every request for one attribute read
    return get_state(request)


StateDep = Annotated[AppState, Depends(_state)]


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise _too_large(limit)
        except ValueError:
            raise errors.invalid("bad_content_length", "invalid Content-Length") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> errors.VidroomError:
    return errors.VidroomError(
        errors.ErrorKind.too_large, "body_too_large", f"the request body exceeds {limit} bytes"
    )


STATUS_BY_KIND: dict[errors.ErrorKind, int] = {
    errors.ErrorKind.invalid: 400,
    errors.ErrorKind.unauthenticated: 401,
    errors.ErrorKind.forbidden: 403,
    errors.ErrorKind.not_found: 404,
    errors.ErrorKind.not_allowed: 405,
    errors.ErrorKind.not_acceptable: 406,
    errors.ErrorKind.conflict: 409,
    errors.ErrorKind.gone: 410,
    errors.ErrorKind.too_large: 413,
    errors.ErrorKind.unsupported: 415,
    errors.ErrorKind.locked: 423,
    errors.ErrorKind.unavailable: 503,
}


def describe_validation(problems: list[Any]) -> str:
    """One line naming each invalid field, from pydantic/FastAPI error dicts."""
    parts = []
    for problem in problems[:5]:
        location = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("body",))
        parts.append(f"{location or 'body'}: {problem.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"
