"""TURN credentials in coturn's shared-secret scheme (the "TURN REST API", coturn
``use-auth-secret`` with ``static-auth-secret``), and the ICE server list handed to a peer.

The username is ``<unix expiry>:<label>`` and the password is
``base64(HMAC-SHA1(secret, username))``. The TURN server recomputes the password from the shared
secret, and refuses the username once its expiry has passed; it never needs to know the label.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr

# a label names whom a credential was minted for (a participant's client id, the media server);
# coturn splits the username at its first ':', so the label never holds one
LABEL = re.compile(r"[A-Za-z0-9._@-]{1,128}")


@dataclass(frozen=True)
class IceServer:
    """One entry of an RTCConfiguration's ``iceServers``."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


class IceConfig(Protocol):
    """What :func:`ice_servers` reads (``vidroom.settings.Settings`` has it)."""

    @property
    def stun_servers(self) -> list[str]: ...
    @property
    def turn_servers(self) -> list[str]: ...
    @property
    def turn_secret(self) -> SecretStr | None: ...
    @property
    def turn_ttl_seconds(self) -> int: ...


def credentials(
    secret: str, label: str, *, ttl_seconds: int, now: float | None = None
) -> tuple[str, str]:
    """``(username, password)`` valid for ``ttl_seconds`` from ``now`` (default: the clock)."""
    if not LABEL.fullmatch(label):
        raise ValueError("a TURN label is 1-128 letters, digits or ._@-")
    if ttl_seconds <= 0:
        raise ValueError("a TURN credential's lifetime must be positive")
    if not secret:
        raise ValueError("no TURN secret")
    expiry = int(time.time() if now is None else now) + ttl_seconds
    username = f"{expiry}:{label}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def expiry(username: str) -> int:
    """The unix time a username minted by :func:`credentials` stops being accepted."""
    return int(username.split(":", 1)[0])


def ice_servers(
    config: IceConfig, label: str, *, ttl_seconds: int | None = None, now: float | None = None
) -> list[IceServer]:
    """The configured STUN servers (one entry, no credentials) and TURN servers (one entry with
    fresh credentials for ``label``); empty when none are configured."""
    servers: list[IceServer] = []
    if config.stun_servers:
        servers.append(IceServer(urls=tuple(config.stun_servers)))
    if config.turn_servers:
        if config.turn_secret is None:
            raise ValueError("TURN servers are configured without a TURN secret")
        username, password = credentials(
            config.turn_secret.get_secret_value(),
            label,
            ttl_seconds=config.turn_ttl_seconds if ttl_seconds is None else ttl_seconds,
            now=now,
        )
        servers.append(IceServer(tuple(config.turn_servers), username, password))
    return servers
