"""Reading the meeting API's parameters the way its clients send them: query string, urlencoded,
multipart and JSON bodies (also on GET and DELETE), merged Rails-style."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.datastructures import UploadFile

from vidroom import errors
from vidroom.api.deps import get_state, read_body
from vidroom.kit.params import FormPairs, parse_params

MAX_FORM_FIELDS = 1000
MAX_FILES = 1


async def params(request: Request, *, file_limit: int = 0) -> dict[str, Any]:
    """All parameters. ``file_limit`` > 0 allows one multipart file of at most that size."""
    settings = get_state(request).settings
    query = list(request.query_params.multi_items())
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    form: FormPairs | None = None
    body: object | None = None
    if content_type == "multipart/form-data":
        limit = max(file_limit, settings.max_body_bytes)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit + 65536:
            raise errors.VidroomError(
                errors.ErrorKind.too_large, "body_too_large", "the request body is too large"
            )
        try:
            parsed = await request.form(
                max_files=MAX_FILES if file_limit else 0,
                max_fields=MAX_FORM_FIELDS,
                max_part_size=settings.max_body_bytes,
            )
        except Exception as exc:  # python-multipart raises several types for bad input
            raise errors.invalid("malformed_body", f"unreadable multipart body: {exc}") from None
        pairs: list[tuple[str, str | UploadFile]] = list(parsed.multi_items())
        form = pairs
    else:
        raw = await read_body(request, settings.max_body_bytes)
        if raw.strip():
            if content_type == "application/x-www-form-urlencoded":
                form = _urlencoded(raw)
            elif content_type in ("application/json", "") or content_type.endswith("+json"):
                try:
                    body = json.loads(raw)
                except (ValueError, RecursionError):
                    if content_type:
                        raise errors.invalid(
                            "malformed_json", "the request body is not valid JSON"
                        ) from None
                    form = _urlencoded(raw)
            else:
                raise errors.VidroomError(
                    errors.ErrorKind.unsupported,
                    "unsupported_media_type",
                    f"unsupported Content-Type {content_type!r}",
                )
    return parse_params(query, form, body)


def _urlencoded(raw: bytes) -> list[tuple[str, str | UploadFile]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.invalid("malformed_body", "the request body is not UTF-8") from None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError as exc:
        raise errors.invalid("malformed_body", str(exc)) from None
    return [(k, v) for k, v in pairs]
