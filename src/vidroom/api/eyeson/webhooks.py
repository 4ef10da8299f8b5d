"""Webhooks of the meeting API (spec §4): one per API key; register (replaces), read, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from vidroom import errors
from vidroom.api.deps import StateDep
from vidroom.api.eyeson.auth import api_key_of, team_of
from vidroom.api.eyeson.errors import EyesonRoute
from vidroom.api.eyeson.request import params
from vidroom.kit.clock import as_utc
from vidroom.kit.params import get_list, get_str
from vidroom.webhooks import payload, service
from vidroom.webhooks.models import Webhook

router = APIRouter(route_class=EyesonRoute, tags=["meeting API"])

_TYPES = ", ".join(f"`{t}`" for t in payload.KNOWN_TYPES)


def webhook_shape(webhook: Webhook) -> dict[str, Any]:
    sent = webhook.last_request_sent_at
    return {
        "id": webhook.id,
        "types": list(webhook.types or []),
        "url": webhook.url,
        "last_request_sent_at": as_utc(sent).isoformat() if sent is not None else None,
        "last_response_code": webhook.last_response_code,
    }


@router.post(
    "/webhooks",
    status_code=201,
    responses={201: {"description": "registered (no body)"}},
    summary="Register the API key's webhook (replaces an earlier one)",
    description=(
        "Parameters: `url` (required; http or https, at most 2000 characters, not a private "
        "or loopback address) and `types` (comma-separated, `types[]` or a JSON array; "
        f"omitted: all types). Types: {_TYPES} (only `room_update` and `participant_update` "
        "fire today). Deliveries are JSON `POST`s `{timestamp, type, <resource>}` signed with "
        "`X-Eyeson-Signature` = hex HMAC-SHA256 of the raw body keyed with the API key, and "
        "carry `X-Vidroom-Delivery` (the same on every retry). Auth: the API key."
    ),
)
async def register(request: Request, state: StateDep) -> Response:
    p = await params(request)
    async with state.db.uow() as uow:
        team, key = await team_of(request, uow.session)
        plaintext = api_key_of(request)
        assert plaintext is not None  # team_of checked it
        types = service.parse_types(get_list(p, "types"))
        url = await service.check_url(
            get_str(p, "url"), allow_private=state.settings.webhooks_may_reach_private
        )
        await service.register(
            uow.session,
            team,
            key,
            api_key=plaintext,
            server_secret=state.settings.ensure_secret_key(),
            registration=service.Registration(url=url, types=types),
        )
    return Response(status_code=201)


@router.get(
    "/webhooks",
    summary="The API key's webhook, or null",
    description=(
        "`{id, types, url, last_request_sent_at, last_response_code}`; JSON `null` when none "
        "is registered. Auth: the API key."
    ),
)
async def get_webhook(request: Request, state: StateDep) -> JSONResponse:
    async with state.db.uow() as uow:
        _, key = await team_of(request, uow.session)
        webhook = await service.current(uow.session, key)
        return JSONResponse(webhook_shape(webhook) if webhook is not None else None)


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    responses={204: {"description": "deleted (no body)"}},
    summary="Delete the API key's webhook (pending deliveries are dropped)",
)
async def delete_webhook(webhook_id: str, request: Request, state: StateDep) -> Response:
    async with state.db.uow() as uow:
        _, key = await team_of(request, uow.session)
        if len(webhook_id) > 100:
            raise errors.not_found("webhook_not_found", "no such webhook")
        await service.remove(uow.session, key, webhook_id)
    return Response(status_code=204)
