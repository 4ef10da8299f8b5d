"""Random tokens and how they are kept: only a hash is stored, comparisons are constant-time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

ALPHANUMERIC = string.ascii_letters + string.digits


def random_token(length: int, alphabet: str = ALPHANUMERIC) -> str:
    """A uniformly random token drawn from ``alphabet`` with the OS CSPRNG."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def token_hash(token: str) -> str:
    """SHA-256 hex digest of a high-entropy token. Tokens are random, so no salt or KDF is needed;
    a leaked database does not reveal working tokens."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def hmac_hex(key: str, message: bytes) -> str:
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def new_id() -> str:
    """A 24-hex-digit identifier (the shape of the meeting API's ids)."""
    return secrets.token_hex(12)
