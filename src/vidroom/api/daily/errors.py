"""The team API's error dialect: ``{"error": {"message": ..., "code": ...}}`` with real statuses."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError

from vidroom import errors
from vidroom.api.deps import STATUS_BY_KIND, describe_validation


def error_response(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "code": code}}, status_code=status)


def vidroom_error_response(exc: errors.VidroomError) -> JSONResponse:
    return error_response(STATUS_BY_KIND.get(exc.kind, 400), exc.message, exc.code)


class DailyRoute(APIRoute):
    """Turns every expected failure inside a team-API route into the dialect's envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except errors.VidroomError as exc:
                return vidroom_error_response(exc)
            except RequestValidationError as exc:
                return error_response(400, describe_validation(list(exc.errors())), "invalid")
            except ValidationError as exc:
                return error_response(400, describe_validation(list(exc.errors())), "invalid")

        return route
