"""Webhook signatures and the sealed signing keys.

Receivers check ``X-Eyeson-Signature`` = lowercase hex HMAC-SHA256 of the raw body, keyed with
the team's API key. API keys are stored only as hashes, so registration (the one moment the
plaintext is at hand) seals the key with Fernet (AES-128-CBC + HMAC-SHA256, authenticated);
the Fernet key is derived from the server secret with HKDF-SHA256 and a purpose label, so the
secret itself never encrypts anything directly and other uses of it stay independent.
Changing the server secret makes sealed keys unreadable: such deliveries fail (re-register).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vidroom.kit.secrets import hmac_hex

_PURPOSE = b"vidroom webhook signing keys v1"


class UnreadableKey(Exception):
    """The sealed key does not open with this server secret."""


@lru_cache(maxsize=8)
def _fernet(server_secret: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        server_secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(server_secret: str, api_key: str) -> str:
    return _fernet(server_secret).encrypt(api_key.encode("utf-8")).decode("ascii")


def unseal(server_secret: str, sealed: str) -> str:
    try:
        return _fernet(server_secret).decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError):
        raise UnreadableKey("the webhook's signing key cannot be decrypted") from None


def signature(api_key: str, body: bytes) -> str:
    """``X-Eyeson-Signature``: hex HMAC-SHA256 of ``body`` keyed with the API key."""
    return hmac_hex(api_key, body)
