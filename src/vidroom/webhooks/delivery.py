"""The delivery worker: sends pending webhook deliveries, durably and at least once.

* Deliveries are rows written in the transaction of the change that caused them (see
  :func:`vidroom.webhooks.service.record_deliveries`), so a committed change always has its
  deliveries and a rolled-back one never does.
* The worker polls for due rows every ``poll_seconds`` and is woken right after a commit that
  created some. It *leases* rows (``claimed_until``) in a short transaction of its own, so several
  workers or processes share the work without sending a row twice at the same time.
* Each attempt is one signed POST through the guarded outbound client (timeouts, no private
  addresses). 2xx → ``delivered``. Anything else → retried after an exponential, fully jittered
  backoff until the retry horizon has passed, then ``failed``.
* A crash mid-delivery leaves the lease in place; when it expires the row is due again and is
  sent with the same id and body (receivers de-duplicate on ``X-Vidroom-Delivery``).
* Outcomes are recorded only while the lease is still held (the lease time is the fencing
  token), so a slow worker whose lease ran out cannot overwrite a newer outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from vidroom.db.uow import Database
from vidroom.events.catalogue import Event
from vidroom.events.models import OutboxEvent
from vidroom.kit import outbound
from vidroom.kit.clock import as_utc, utc_now
from vidroom.settings import Settings
from vidroom.webhooks import repository, service, signing
from vidroom.webhooks.models import Webhook, WebhookDelivery

log = logging.getLogger(__name__)

USER_AGENT = "vidroom-webhooks"
MAX_RESPONSE_BYTES = 64 * 1024
RETENTION = timedelta(days=7)
PRUNE_EVERY = 3600.0
_WAKE_FLAG = "vidroom.webhooks.wake"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, retried until ``horizon`` after the event.

    Attempt *n* (1-based) that failed is retried after ``uniform(0, min(cap, base * factor **
    (n - 1)))`` seconds; the last retry is scheduled at the horizon at the latest, so retries
    span the whole horizon. With the defaults (base 2 s, factor 2, cap 10 min, horizon 6 h)
    that is about 80 attempts, on average 5 minutes apart once the cap is reached.
    """

    base: float = 2.0
    factor: float = 2.0
    cap: float = 600.0
    horizon: float = 6 * 3600.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def ceiling(self, attempts: int) -> float:
        exponent = min(max(attempts - 1, 0), 64)
        return float(min(self.cap, self.base * self.factor**exponent))

    def next_attempt(
        self, *, attempts: int, now: datetime, created_at: datetime
    ) -> datetime | None:
        """When to try again after ``attempts`` failed attempts; None: give up."""
        deadline = as_utc(created_at) + timedelta(seconds=self.horizon)
        if now >= deadline:
            return None
        delay = self.rng.uniform(0.0, self.ceiling(attempts))
        return min(now + timedelta(seconds=delay), deadline)


@dataclass(frozen=True)
class WorkerConfig:
    timeout: float = 10.0
    lease: float = 60.0
    poll: float = 1.0
    concurrency: int = 8
    allow_private: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerConfig:
        return cls(
            timeout=settings.webhook_timeout_seconds,
            lease=settings.webhook_lease_seconds,
            poll=settings.webhook_poll_seconds,
            allow_private=settings.webhooks_may_reach_private,
            retry=RetryPolicy(
                base=settings.webhook_retry_base_seconds,
                cap=settings.webhook_retry_cap_seconds,
                horizon=settings.webhook_retry_horizon_seconds,
            ),
        )

    @property
    def effective_lease(self) -> float:
        # a lease must outlive one attempt, or a slow attempt would be claimed again meanwhile
        return max(self.lease, self.timeout + 2.0)


@dataclass
class _Job:
    delivery_id: str
    webhook_id: str
    url: str
    signing_key: str
    body: str
    attempts: int
    created_at: datetime
    lease: datetime


class DeliveryWorker:
    """Background task that delivers webhooks; :meth:`on_event` is the transactional handler."""

    def __init__(
        self,
        db: Database,
        server_secret: str,
        config: WorkerConfig,
        settings: Settings | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.settings = settings  # links in recording and snapshot payloads
        self._secret = server_secret
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: dict[asyncio.Task[None], _Job] = {}
        self._client: outbound.OutboundClient | None = None
        self._last_prune: float | None = None

    # --- inside the emitting transaction --------------------------------------------------------

    async def on_event(self, session: AsyncSession, outbox_row: OutboxEvent, event: Event) -> None:
        rows = await service.record_deliveries(session, outbox_row, event, self.settings)
        if rows and not session.info.get(_WAKE_FLAG):
            session.info[_WAKE_FLAG] = True
            sa_event.listen(session.sync_session, "after_commit", self._after_commit, once=True)

    def _after_commit(self, session: Session) -> None:
        session.info.pop(_WAKE_FLAG, None)
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._client = outbound.OutboundClient(
                outbound.OutboundPolicy(
                    allow_private=self.config.allow_private,
                    connect_timeout=min(5.0, self.config.timeout),
                    read_timeout=self.config.timeout,
                    total_timeout=self.config.timeout,
                    max_response_bytes=MAX_RESPONSE_BYTES,
                    user_agent=USER_AGENT,
                )
            )
            self._task = asyncio.create_task(self._run(), name="webhook-delivery")

    async def stop(self) -> None:
        """Stop; attempts in flight are abandoned and their leases given back."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        jobs = list(self._inflight.values())
        for task in list(self._inflight):
            task.cancel()
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        self._inflight.clear()
        try:
            async with self.db.uow() as uow:
                for job in jobs:
                    await repository.release(uow.session, [job.delivery_id], job.lease)
        except Exception:
            log.warning("could not release webhook leases; they expire on their own")
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- the loop -------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            # cleared before looking, so a wake-up arriving meanwhile is not lost
            self._wake.clear()
            free = self.config.concurrency - len(self._inflight)
            if free > 0:
                try:
                    await self.run_once(free)
                except Exception as exc:  # a locked or unreachable database: try again soon
                    log.warning("claiming webhook deliveries failed: %s", _short(exc))
            await self._maybe_prune()
            # woken by a commit that created deliveries, or by a finished attempt
            await self._wait(self.config.poll)

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def run_once(self, limit: int) -> int:
        """Claim up to ``limit`` due deliveries and start sending them; how many were claimed."""
        now = utc_now()
        lease = now + timedelta(seconds=self.config.effective_lease)
        async with self.db.uow() as uow:
            ids = await repository.claim_due(uow.session, now=now, lease_until=lease, limit=limit)
            pairs = await repository.claimed(uow.session, ids)
        for delivery, webhook in pairs:
            job = self._job(delivery, webhook, lease)
            task = asyncio.create_task(self._attempt(job), name=f"webhook-{delivery.id}")
            self._inflight[task] = job
            task.add_done_callback(self._done)
        return len(pairs)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.pop(task, None)
        self._wake.set()

    def _job(self, delivery: WebhookDelivery, webhook: Webhook, lease: datetime) -> _Job:
        return _Job(
            delivery_id=delivery.id,
            webhook_id=webhook.id,
            url=webhook.url,
            signing_key=webhook.signing_key,
            body=delivery.body,
            attempts=delivery.attempts,
            created_at=delivery.created_at,
            lease=lease,
        )

    # --- one attempt ----------------------------------------------------------------------------

    async def _attempt(self, job: _Job) -> None:
        sent_at = utc_now()
        code: str | None = None
        error: str | None = None
        give_up = False
        try:
            api_key = signing.unseal(self._secret, job.signing_key)
        except signing.UnreadableKey as exc:
            error, give_up = str(exc), True
        else:
            body = job.body.encode("utf-8")
            headers = {
                "Content-Type": "application/json",
                "X-Eyeson-Signature": signing.signature(api_key, body),
                "X-Vidroom-Delivery": job.delivery_id,
            }
            client = self._client
            if client is None:
                return
            try:
                response = await client.request(
                    "POST", job.url, headers=headers, content=body, oversize="truncate"
                )
                code = str(response.status_code)
            except outbound.OutboundError as exc:  # refused, unreachable, timed out
                error = str(exc)
            except Exception:
                log.exception("webhook delivery %s: unexpected failure", job.delivery_id)
                error = "internal error while sending"
        await self._record(job, sent_at=sent_at, code=code, error=error, give_up=give_up)

    async def _record(
        self, job: _Job, *, sent_at: datetime, code: str | None, error: str | None, give_up: bool
    ) -> None:
        now = utc_now()
        ok = code is not None and code.startswith("2") and len(code) == 3
        values: dict[str, object] = {
            "last_attempt_at": sent_at,
            "last_response_code": code,
            "last_error": None if ok else (error or f"HTTP {code}")[:500],
        }
        if ok:
            values.update(status=repository.DELIVERED, delivered_at=now)
        else:
            retry_at = (
                None
                if give_up
                else self.config.retry.next_attempt(
                    attempts=job.attempts + 1, now=now, created_at=job.created_at
                )
            )
            if retry_at is None:
                values.update(status=repository.FAILED)
            else:
                values.update(next_attempt_at=retry_at)
        for attempt in range(5):
            try:
                async with self.db.uow() as uow:
                    held = await repository.finish_attempt(
                        uow.session, job.delivery_id, job.lease, values=values
                    )
                    if held and not give_up:
                        await repository.record_request(
                            uow.session, job.webhook_id, sent_at=sent_at, code=code
                        )
                if not ok:
                    log.info(
                        "webhook delivery %s attempt %d failed: %s",
                        job.delivery_id,
                        job.attempts + 1,
                        values["last_error"],
                    )
                return
            except Exception as exc:
                log.warning(
                    "recording webhook delivery %s failed (try %d): %s",
                    job.delivery_id,
                    attempt + 1,
                    _short(exc),
                )
                await asyncio.sleep(0.2 * 2**attempt)
        # the lease expires and the delivery is sent again: at least once

    async def _maybe_prune(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._last_prune is not None and now - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = now
        try:
            async with self.db.uow() as uow:
                await repository.prune(uow.session, older_than=utc_now() - RETENTION)
        except Exception as exc:
            log.warning("pruning old webhook deliveries failed: %s", _short(exc))


def _short(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:200]
