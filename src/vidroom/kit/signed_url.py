"""Download links that expire: ``?expires=<unix s>&signature=<hex>`` where the signature is
HMAC-SHA256, keyed by the server's secret key, over ``<kind>:<id>:<expires>``. Checked in
constant time; an expired or altered link is refused."""

from __future__ import annotations

import hashlib
import hmac
import time

TTL_SECONDS = 3600
MAX_SIGNATURE = 64


def signature(secret: str, kind: str, item_id: str, expires: int) -> str:
    message = f"{kind}:{item_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def link(
    base_url: str, secret: str, kind: str, item_id: str, *, ttl: int = TTL_SECONDS,
    now: float | None = None,
) -> str:  # fmt: skip
    expires = int((time.time() if now is None else now) + ttl)
    sig = signature(secret, kind, item_id, expires)
    return f"{base_url}/downloads/{kind}/{item_id}?expires={expires}&signature={sig}"


def valid(
    secret: str, kind: str, item_id: str, expires: str | None, sig: str | None,
    *, now: float | None = None,
) -> bool:  # fmt: skip
    """Whether the link's parameters are genuine and not expired."""
    if not expires or not sig or len(sig) > MAX_SIGNATURE or not expires.isdigit():
        return False
    if len(expires) > 12 or int(expires) < (time.time() if now is None else now):
        return False
    expected = signature(secret, kind, item_id, int(expires))
    return hmac.compare_digest(expected, sig.lower())
