"""The meeting API's error dialect: ``{"error": "<message>"}`` with the spec's statuses."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from vidroom import errors
from vidroom.api.deps import STATUS_BY_KIND
from vidroom.api.routing import dialect_route

# the meeting API answers a missing or unknown API key with 403 (its documentation's choice)
EYESON_STATUS = {**STATUS_BY_KIND, errors.ErrorKind.unauthenticated: 403}


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def vidroom_error_response(exc: errors.VidroomError) -> JSONResponse:
    return error_response(EYESON_STATUS.get(exc.kind, 400), exc.message)


EyesonRoute = dialect_route(vidroom_error_response)
