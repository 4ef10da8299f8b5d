"""RTMP(S) ingest URLs that users give for live broadcasts: parsed, checked, resolved once.

An ingest URL is ``rtmp://host[:port]/app[/more]/<stream key>`` (or ``rtmps://``; default ports
1935 and 443). The stream key (the last path segment, with any query string) is a third party's
secret: only :attr:`StreamURL.url` holds it (for the media worker); :attr:`StreamURL.redacted`
replaces it with ``***`` for the database, logs, responses and events.

The rules are the outbound ones (:mod:`vidroom.kit.outbound`): at most :data:`MAX_URL`
characters, no spaces or control characters, no user info, a host that is an IP literal or a
plain DNS name (IDNA-encoded), ``localhost`` refused by name, and the name resolved *once*:
every address must pass :func:`vidroom.kit.outbound.refusal` unless private addresses are
allowed. The checked addresses go to the worker, which connects to them and not to a second
DNS answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from vidroom.kit.outbound import OutboundError, Resolver, refusal, system_resolver

MAX_URL = 2000
MAX_KEY = 500
DEFAULT_PORTS = {"rtmp": 1935, "rtmps": 443}
REDACTED = "***"
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%-]+")
_KEY = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%/?-]+")


class StreamURLError(ValueError):
    """The URL is not an acceptable ingest URL; the message says why (without the key)."""


@dataclass(frozen=True)
class ParsedStreamURL:
    url: str  # as given (with its stream key)
    scheme: str  # "rtmp" | "rtmps"
    host: str  # IDNA, lowercase, IPv6 without brackets
    port: int
    app: str  # the path before the stream key, without the leading "/"
    redacted: str  # the URL with the stream key replaced by ``***``


@dataclass(frozen=True)
class StreamURL(ParsedStreamURL):
    addresses: tuple[str, ...] = ()  # the checked addresses, in resolver order


def _host(parts: SplitResult) -> str:
    try:
        hostname = parts.hostname
    except ValueError:
        raise StreamURLError("the URL's host is not valid") from None
    if not hostname:
        raise StreamURLError("the URL has no host")
    if _literal(hostname) is not None:
        return str(_literal(hostname))
    try:
        host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise StreamURLError("the URL's host is not a valid host name") from None
    if len(host) > 253 or not _HOSTNAME.fullmatch(host):
        raise StreamURLError("the URL's host is not a valid host name")
    return host


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def parse(raw: object) -> ParsedStreamURL:
    """Check the URL's form (no network); :class:`StreamURLError` says what is wrong."""
    if not isinstance(raw, str) or not raw.strip():
        raise StreamURLError("stream_url is required")
    if len(raw) > MAX_URL:
        raise StreamURLError(f"stream_url has at most {MAX_URL} characters")
    if any(c.isspace() or ord(c) < 32 or 127 <= ord(c) < 160 for c in raw):
        raise StreamURLError("stream_url must not contain spaces or control characters")
    scheme = raw.split(":", 1)[0].lower() if ":" in raw else ""
    if scheme not in DEFAULT_PORTS:
        raise StreamURLError("stream_url must be an rtmp:// or rtmps:// URL")
    try:
        parts = urlsplit(raw)
    except ValueError:
        raise StreamURLError("the URL's host is not valid") from None
    if not raw[len(scheme) :].startswith("://"):
        raise StreamURLError("stream_url must be an rtmp:// or rtmps:// URL")
    if "@" in parts.netloc:
        raise StreamURLError("stream_url must not contain user info")
    if parts.fragment or "#" in raw:
        raise StreamURLError("stream_url must not contain a fragment")
    host = _host(parts)
    try:
        port = DEFAULT_PORTS[scheme] if parts.port is None else parts.port
    except ValueError:
        raise StreamURLError("the URL's port is not valid") from None
    if not 0 < port < 65536:
        raise StreamURLError("the URL's port is not valid")
    segments = parts.path.split("/")[1:]
    if len(segments) < 2 or not all(segments[:-1]) or not segments[-1]:
        raise StreamURLError("stream_url needs an application path and a stream key")
    if not all(_SEGMENT.fullmatch(s) for s in segments[:-1]):
        raise StreamURLError("stream_url's path has characters that are not allowed")
    key = segments[-1] + (f"?{parts.query}" if parts.query else "")
    if len(key) > MAX_KEY or not _KEY.fullmatch(key):
        raise StreamURLError("stream_url's stream key has characters that are not allowed")
    app = "/".join(segments[:-1])
    shown_host = f"[{host}]" if ":" in host else host
    redacted = f"{scheme}://{shown_host}:{port}/{app}/{REDACTED}"
    return ParsedStreamURL(url=raw, scheme=scheme, host=host, port=port, app=app, redacted=redacted)


def redact(raw: str) -> str:
    """The URL without its stream key, for anything a person may read; a placeholder when the
    URL cannot even be parsed (it may still hold a key)."""
    try:
        return parse(raw).redacted
    except StreamURLError:
        return "rtmp://(invalid)"


async def check(
    raw: object,
    *,
    allow_private: bool,
    resolver: Resolver = system_resolver,
    resolve_seconds: float = 5.0,
) -> StreamURL:
    """Parse ``raw`` and resolve its host once (within ``resolve_seconds``); every address
    must be public unless ``allow_private``. :class:`StreamURLError` otherwise."""
    parsed = parse(raw)
    host = parsed.host
    bare = host.rstrip(".")
    if not allow_private and (bare == "localhost" or bare.endswith(".localhost")):
        raise StreamURLError(f"refused: {host} is a loopback name")
    literal = _literal(host)
    if literal is not None:
        found = [str(literal)]
    else:
        try:
            async with asyncio.timeout(resolve_seconds):
                found = await resolver(host, parsed.port)
        except TimeoutError:
            raise StreamURLError(f"cannot resolve {host}: timed out") from None
        except OutboundError as exc:
            raise StreamURLError(str(exc)[:200]) from None
    if not found:
        raise StreamURLError(f"{host} has no addresses")
    addresses: list[str] = []
    for text in found:
        ip = _literal(text)
        if ip is None:
            raise StreamURLError(f"{host} resolved to something that is not an address")
        if not allow_private:
            reason = refusal(ip)
            if reason is not None:
                raise StreamURLError(f"refused: {host} resolves to a non-public address ({reason})")
        addresses.append(str(ip))
    return StreamURL(**parsed.__dict__, addresses=tuple(addresses))
