"""Every query on webhooks and their deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.teams.models import ApiKey
from vidroom.webhooks.models import Webhook, WebhookDelivery

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


async def webhook_of_key(session: AsyncSession, api_key_id: str) -> Webhook | None:
    found = await session.scalars(select(Webhook).where(Webhook.api_key_id == api_key_id))
    return found.first()


async def webhooks_of_team(session: AsyncSession, team_id: str) -> Sequence[Webhook]:
    """The team's webhooks whose API key is still valid (a revoked key's webhook is silent)."""
    found = await session.scalars(
        select(Webhook)
        .join(ApiKey, ApiKey.id == Webhook.api_key_id)
        .where(Webhook.team_id == team_id, ApiKey.revoked_at.is_(None))
        .order_by(Webhook.created_at)
    )
    return found.all()


async def delete_webhook(session: AsyncSession, webhook_id: str) -> None:
    """The webhook and its deliveries (pending ones are dropped)."""
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id))
    await session.execute(delete(Webhook).where(Webhook.id == webhook_id))


def _due(now: datetime) -> list[ColumnElement[bool]]:
    return [
        WebhookDelivery.status == PENDING,
        WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
    ]


async def claim_due(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int
) -> list[str]:
    """Lease up to ``limit`` due deliveries; the ids this caller now holds.

    Two statements in the caller's transaction: ``SELECT ... LIMIT n FOR UPDATE SKIP LOCKED``
    locks the rows (PostgreSQL skips rows other workers hold; the locks last until commit), then
    an ``UPDATE`` sets the lease on exactly those rows. (A single ``UPDATE ... WHERE id IN
    (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`` may run the subquery more than once and take
    more than ``n`` rows.) SQLite has no FOR UPDATE; its ``BEGIN IMMEDIATE`` transactions
    serialise writers. The due condition is repeated in the UPDATE as a guard.
    """
    due = _due(now)
    locked = await session.execute(
        select(WebhookDelivery.id)
        .where(*due)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = [row[0] for row in locked.all()]
    if not ids:
        return []
    result = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids), *due)
        .values(claimed_until=lease_until)
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    )
    return [row[0] for row in result.all()]


async def claimed(
    session: AsyncSession, ids: Sequence[str]
) -> Sequence[tuple[WebhookDelivery, Webhook]]:
    if not ids:
        return []
    found = await session.execute(
        select(WebhookDelivery, Webhook)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.created_at)
    )
    return [(row[0], row[1]) for row in found.all()]


async def finish_attempt(
    session: AsyncSession,
    delivery_id: str,
    lease: datetime,
    *,
    values: dict[str, object],
) -> bool:
    """Record an attempt's outcome, only while this caller still holds the lease."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.claimed_until == lease)
        .values(
            attempts=WebhookDelivery.attempts + 1,
            claimed_until=None,
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def record_request(
    session: AsyncSession, webhook_id: str, *, sent_at: datetime, code: str | None
) -> None:
    """The webhook's ``last_request_sent_at``/``last_response_code`` (never moved back)."""
    await session.execute(
        update(Webhook)
        .where(
            Webhook.id == webhook_id,
            or_(Webhook.last_request_sent_at.is_(None), Webhook.last_request_sent_at <= sent_at),
        )
        .values(last_request_sent_at=sent_at, last_response_code=code)
        .execution_options(synchronize_session=False)
    )


async def release(session: AsyncSession, delivery_ids: Sequence[str], lease: datetime) -> None:
    """Give leases back (a clean shutdown): the deliveries are due again at once."""
    if not delivery_ids:
        return
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.claimed_until == lease)
        .values(claimed_until=None)
        .execution_options(synchronize_session=False)
    )


async def prune(session: AsyncSession, *, older_than: datetime) -> int:
    """Forget finished deliveries created before ``older_than``."""
    result = await session.execute(
        delete(WebhookDelivery).where(
            and_(
                WebhookDelivery.status.in_((DELIVERED, FAILED)),
                WebhookDelivery.created_at < older_than,
            )
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def deliveries_of(session: AsyncSession, webhook_id: str) -> Sequence[WebhookDelivery]:
    found = await session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.created_at)
    )
    return found.all()
