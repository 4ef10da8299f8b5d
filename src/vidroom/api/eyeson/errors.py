"""The meeting API's error dialect: ``{"error": "<message>"}`` with the spec's statuses."""

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
from vidroom.kit.params import ParamError

# the meeting API answers a missing or unknown API key with 403 (its documentation's choice)
EYESON_STATUS = {**STATUS_BY_KIND, errors.ErrorKind.unauthenticated: 403}


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def vidroom_error_response(exc: errors.VidroomError) -> JSONResponse:
    return error_response(EYESON_STATUS.get(exc.kind, 400), exc.message)


class EyesonRoute(APIRoute):
    """Turns every expected failure inside a meeting-API route into the dialect's envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except errors.VidroomError as exc:
                return vidroom_error_response(exc)
            except ParamError as exc:
                return error_response(400, str(exc))
            except (RequestValidationError, ValidationError) as exc:
                return error_response(400, describe_validation(list(exc.errors())))

        return route
