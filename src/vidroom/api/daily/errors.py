"""The team API's error dialect: ``{"error": {"message": ..., "code": ...}}`` with real statuses."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from vidroom import errors
from vidroom.api.deps import STATUS_BY_KIND
from vidroom.api.routing import dialect_route


def error_response(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "code": code}}, status_code=status)


def vidroom_error_response(exc: errors.VidroomError) -> JSONResponse:
    return error_response(STATUS_BY_KIND.get(exc.kind, 400), exc.message, exc.code)


DailyRoute = dialect_route(vidroom_error_response)
