"""Use cases of webhooks: register (replacing), read, remove; turn events into deliveries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.events.catalogue import Event
from vidroom.events.models import OutboxEvent
from vidroom.kit import outbound
from vidroom.kit.clock import utc_now
from vidroom.settings import Settings
from vidroom.teams.models import ApiKey, Team
from vidroom.webhooks import payload, repository, signing
from vidroom.webhooks.models import Webhook, WebhookDelivery

log = logging.getLogger(__name__)

MAX_TYPES = 50
RESOLVE_TIMEOUT = 3.0


@dataclass(frozen=True)
class Registration:
    url: str
    types: list[str]


def parse_types(values: Iterable[str] | None) -> list[str]:
    """Webhook types from ``a,b`` strings and/or lists; none given → every known type."""
    if values is None:
        return list(payload.KNOWN_TYPES)
    names: list[str] = []
    for value in values:
        for part in value.split(","):
            name = part.strip()
            if name and name not in names:
                names.append(name)
            if len(names) > MAX_TYPES:
                raise errors.invalid("invalid_parameter", "too many types")
    if not names:
        return list(payload.KNOWN_TYPES)
    unknown = [n for n in names if n not in payload.KNOWN_TYPES]
    if unknown:
        shown = ", ".join(repr(n[:40]) for n in unknown[:5])
        raise errors.invalid(
            "invalid_parameter",
            f"unknown webhook type(s) {shown}; valid types: {', '.join(payload.KNOWN_TYPES)}",
        )
    return names


async def check_url(url: str | None, *, allow_private: bool) -> str:
    """A URL webhooks may be sent to: http(s), not a refused address (when it resolves)."""
    if url is None or not url.strip():
        raise errors.invalid("missing_parameter", "url is required")
    url = url.strip()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            await outbound.resolve(url, allow_private=allow_private)
    except outbound.RefusedURL as exc:
        raise errors.invalid("invalid_url", f"url: {exc}") from None
    except (outbound.OutboundError, TimeoutError):
        # not resolvable now: accepted; every delivery checks the address again
        pass
    return url


async def register(
    session: AsyncSession,
    team: Team,
    key: ApiKey,
    *,
    api_key: str,
    server_secret: str,
    registration: Registration,
) -> Webhook:
    """The API key's webhook, replacing any earlier one (and dropping its pending deliveries)."""
    sealed = signing.seal(server_secret, api_key)
    for _ in range(3):
        existing = await repository.webhook_of_key(session, key.id)
        if existing is not None:
            await repository.delete_webhook(session, existing.id)
            session.expunge(existing)
        webhook = Webhook(
            team_id=team.id,
            api_key_id=key.id,
            url=registration.url,
            types=list(registration.types),
            signing_key=sealed,
        )
        try:
            async with session.begin_nested():
                session.add(webhook)
                await session.flush()
        except IntegrityError:
            # a concurrent registration with the same key won the insert: replace it in turn
            continue
        return webhook
    raise errors.VidroomError(
        errors.ErrorKind.conflict, "busy", "the webhook is being changed concurrently; retry"
    )


async def current(session: AsyncSession, key: ApiKey) -> Webhook | None:
    return await repository.webhook_of_key(session, key.id)


async def remove(session: AsyncSession, key: ApiKey, webhook_id: str) -> None:
    webhook = await repository.webhook_of_key(session, key.id)
    if webhook is None or webhook.id != webhook_id:
        raise errors.not_found("webhook_not_found", "no such webhook")
    await repository.delete_webhook(session, webhook.id)
    session.expunge(webhook)


async def record_deliveries(
    session: AsyncSession, outbox_row: OutboxEvent, event: Event, settings: Settings | None = None
) -> list[WebhookDelivery]:
    """Inside the emitting transaction: one delivery per webhook of the team that wants it."""
    kind = payload.webhook_type(event)
    if kind is None:
        return []
    hooks = [w for w in await repository.webhooks_of_team(session, event.team_id)
             if kind in (w.types or [])]  # fmt: skip
    if not hooks:
        return []
    built = await payload.build(session, event, settings)
    if built is None:
        return []
    kind, body = built
    now = utc_now()
    rows = [
        WebhookDelivery(
            webhook_id=w.id,
            event_id=outbox_row.id,
            type=kind,
            body=body,
            status=repository.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            extra={},
        )
        for w in hooks
    ]
    session.add_all(rows)
    await session.flush()
    return rows
