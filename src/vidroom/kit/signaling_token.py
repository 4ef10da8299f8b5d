"""Signalling tokens (``signaling.options.auth_token``): short-lived HS256 JWTs naming the
client and the conference.

The web client decodes the payload with ``atob``, which rejects base64url's ``-`` and ``_``; the
token is re-issued with a fresh nonce until its payload segment has neither.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt

ISSUER = "vidroom"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class SignalingClaims:
    client_id: str
    conf_id: str
    exp: int


def issue(secret: str, *, client_id: str, conf_id: str, ttl_seconds: int = 3 * 3600) -> str:
    exp = int(time.time()) + ttl_seconds
    for _ in range(64):
        claims = {
            "client_id": client_id,
            "conf_id": conf_id,
            "exp": exp,
            "iss": ISSUER,
            "n": secrets.token_hex(4),
        }
        token = jwt.encode(claims, secret, algorithm=ALGORITHM)
        payload = token.split(".")[1]
        if "-" not in payload and "_" not in payload:
            return token
    raise RuntimeError("could not issue an atob-safe signalling token")


def verify(secret: str, token: str) -> SignalingClaims:
    """The claims of a valid, unexpired token; ``jwt.InvalidTokenError`` otherwise."""
    claims = jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        issuer=ISSUER,
        options={"require": ["exp", "client_id", "conf_id"]},
    )
    client_id, conf_id = claims.get("client_id"), claims.get("conf_id")
    if not isinstance(client_id, str) or not isinstance(conf_id, str):
        raise jwt.InvalidTokenError("client_id and conf_id must be strings")
    return SignalingClaims(client_id=client_id, conf_id=conf_id, exp=int(claims["exp"]))
