"""A route class per API dialect: expected failures inside a route become the dialect's error
response (never a 500)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import ValidationError

from vidroom import errors
from vidroom.api.deps import describe_validation
from vidroom.kit.params import ParamError


def dialect_route(render: Callable[[errors.VidroomError], Response]) -> type[APIRoute]:
    """An ``APIRoute`` subclass rendering every ``VidroomError`` (and bad input) with ``render``."""

    class DialectRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def route(request: Request) -> Response:
                try:
                    return await handler(request)
                except errors.VidroomError as exc:
                    return render(exc)
                except ParamError as exc:
                    return render(errors.invalid("invalid_parameter", str(exc)))
                except (RequestValidationError, ValidationError) as exc:
                    message = describe_validation(list(exc.errors()))
                    return render(errors.invalid("invalid", message))

            return route

    return DialectRoute
