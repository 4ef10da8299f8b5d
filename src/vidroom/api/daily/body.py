"""Lenient JSON bodies: any or no Content-Type, empty body = no fields, unknown fields ignored."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel

from vidroom import errors
from vidroom.api.deps import get_state, read_body

M = TypeVar("M", bound=BaseModel)


async def json_object(request: Request) -> dict[str, Any]:
    raw = await read_body(request, get_state(request).settings.max_body_bytes)
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise errors.invalid("malformed_json", "the request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise errors.invalid("malformed_json", "the request body must be a JSON object")
    return value


async def parse(request: Request, model: type[M]) -> M:
    """Raises pydantic's ValidationError on wrong fields; the route maps it to a 400."""
    return model.model_validate(await json_object(request))


def body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body that the handler parses itself."""
    return {
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }
