"""Where a meeting link leads: the server's base URL and an access key or a guest token."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Link:
    base_url: str
    access_key: str | None = None
    guest_token: str | None = None


def parse_link(url: str) -> Link:
    """``<base>/join?<access key>`` (``links.gui``), ``<base>/join?guest=<token>``
    (``links.guest_join``) or ``<base>/rooms/<access key>`` (``links.self``)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http(s) meeting link")
    path = parts.path.rstrip("/")
    if path.endswith("/join"):
        prefix = path[: -len("/join")]
        base = f"{parts.scheme}://{parts.netloc}{prefix}"
        guest = parse_qs(parts.query).get("guest")
        if guest and guest[0]:
            return Link(base, guest_token=guest[0])
        if parts.query and "=" not in parts.query:
            return Link(base, access_key=parts.query)
    elif "/rooms/" in path:
        prefix, _, key = path.rpartition("/rooms/")
        if key and "/" not in key:
            return Link(f"{parts.scheme}://{parts.netloc}{prefix}", access_key=key)
    raise ValueError("the link names no access key or guest token")
