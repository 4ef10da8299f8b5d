"""Outbound HTTP to URLs that users chose (webhooks, later layer images): guarded against SSRF.

What a request goes through, and why:

* **URL**: ``http``/``https`` only, a host that is an IP literal or a plain DNS name (letters,
  digits, ``-``, ``.``; IDNA is encoded by httpx first), at most :data:`MAX_URL` characters.
* **Names**: ``localhost`` and ``*.localhost`` are refused by name (RFC 6761: always loopback).
* **DNS once**: the host is resolved a single time (``getaddrinfo``). *Every* resolved address
  must pass :func:`refusal` (unless ``allow_private``): one private address among public ones
  refuses the whole URL. Numeric tricks (``2130706433``, ``0x7f.1``, ``0177.0.0.1``) resolve to
  what the C library makes of them and are checked as such.
* **Pinning**: the request is sent to the checked IP itself (the URL's host is replaced by the
  address; ``Host`` keeps the name; for HTTPS the TLS SNI and certificate check use the name
  via httpcore's ``sni_hostname`` extension). A second, different DNS answer (DNS rebinding)
  therefore never reaches the socket. Addresses are tried in order on connection failures.
* **No reuse, no proxies, no redirects**: keep-alive is off (a pooled connection opened for one
  name must not serve another name on the same IP), ``trust_env`` is off (``HTTP_PROXY`` would
  bypass the pin), redirects are returned, never followed.
* **Time**: connect and read timeouts, plus one overall deadline for resolution, connection,
  sending and reading (a server dripping one byte per read timeout cannot hold us).
* **Size**: at most ``max_response_bytes`` of the body are read; beyond that the response is
  either cut (``truncated=True``) or refused (:class:`ResponseTooLarge`), as the caller asks.
  :meth:`OutboundClient.download` streams a body to a file instead, with its own limit.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import httpx

MAX_URL = 2000
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]


class OutboundError(Exception):
    """The request could not be made or completed (refused, unreachable, timed out...)."""


class RefusedURL(OutboundError):
    """The URL or an address it resolves to is not allowed."""


class ResponseTooLarge(OutboundError):
    """The response body is larger than allowed."""


@dataclass(frozen=True)
class OutboundPolicy:
    allow_private: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    # one deadline for everything: resolution, connection, request and response body
    total_timeout: float = 15.0
    max_response_bytes: int = 1_000_000
    user_agent: str = "vidroom"


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``addresses``, in order) and what to call it."""

    url: httpx.URL
    host: str
    port: int
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class OutboundResponse:
    status_code: int
    headers: httpx.Headers
    body: bytes
    truncated: bool
    address: str


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    # IPv4-compatible (deprecated ::a.b.c.d)
    if int(ip) >> 32 == 0 and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip))
    return None


def refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be contacted, or None when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            reason = refusal(inner)
            if reason is not None:
                return f"{reason} (embedded in {ip})"
    checks = (
        ("an unspecified", ip.is_unspecified),
        ("a loopback", ip.is_loopback),
        ("a link-local", ip.is_link_local),
        ("a multicast", ip.is_multicast),
        ("a private", ip.is_private),
        ("a reserved", ip.is_reserved),
        ("a site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("a non-global", not ip.is_global),
    )
    for name, hit in checks:
        if hit:
            return f"{ip} is {name} address"
    return None


def parse_url(raw: str) -> tuple[httpx.URL, str, int]:
    """The URL, its host (IDNA, lowercase, IPv6 without brackets) and port; or RefusedURL."""
    if not isinstance(raw, str) or not raw or len(raw) > MAX_URL:
        raise RefusedURL(f"the URL must have 1 to {MAX_URL} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in raw):
        raise RefusedURL("the URL must not contain spaces or control characters")
    try:
        url = httpx.URL(raw)
        host = url.raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise RefusedURL(f"invalid URL: {exc}") from None
    if url.scheme not in ("http", "https"):
        raise RefusedURL("only http and https URLs are allowed")
    if not host:
        raise RefusedURL("the URL has no host")
    if _literal(host) is None and (len(host) > 253 or not _HOSTNAME.fullmatch(host)):
        raise RefusedURL("the URL's host is not a valid host name")
    port = url.port or (443 if url.scheme == "https" else 80)
    return url, host, port


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def system_resolver(host: str, port: int) -> list[str]:
    """Addresses of ``host`` from the system resolver (in its order, without duplicates)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundError(f"cannot resolve {host}: {exc}") from None
    seen: dict[str, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]).split("%", 1)[0], None)
    return list(seen)


async def resolve(raw: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> Target:
    """Check ``raw`` and resolve its host once; every address is checked (see module doc).

    Raises RefusedURL for a URL or address that is not allowed, OutboundError when the name
    does not resolve.
    """
    url, host, port = parse_url(raw)
    literal = _literal(host)
    bare = host.rstrip(".")
    if not allow_private and (bare == "localhost" or bare.endswith(".localhost")):
        raise RefusedURL(f"refused: {host} is a loopback name")
    found = [str(literal)] if literal is not None else await resolver(host, port)
    if not found:
        raise OutboundError(f"{host} has no addresses")
    addresses: list[str] = []
    for text in found:
        ip = _literal(text)
        if ip is None:
            raise OutboundError(f"{host} resolved to something that is not an address")
        if not allow_private:
            reason = refusal(ip)
            if reason is not None:
                raise RefusedURL(f"refused: {host} resolves to a non-public address ({reason})")
        addresses.append(str(ip))
    return Target(url=url, host=host, port=port, addresses=tuple(addresses))


class OutboundClient:
    """A small HTTP client that only talks to checked, pinned, public addresses."""

    def __init__(self, policy: OutboundPolicy, *, resolver: Resolver = system_resolver) -> None:
        self.policy = policy
        self._resolver = resolver
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(
                connect=policy.connect_timeout,
                read=policy.read_timeout,
                write=policy.read_timeout,
                pool=policy.connect_timeout,
            ),
            limits=httpx.Limits(max_keepalive_connections=0, max_connections=100),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        oversize: Literal["error", "truncate"] = "error",
    ) -> OutboundResponse:
        """Send one request; RefusedURL, ResponseTooLarge or OutboundError on failure."""
        try:
            async with asyncio.timeout(self.policy.total_timeout):
                target = await resolve(
                    url, allow_private=self.policy.allow_private, resolver=self._resolver
                )
                return await self._send(target, method, headers or {}, content, oversize)
        except TimeoutError:
            raise OutboundError(f"timed out after {self.policy.total_timeout:g} s") from None

    async def download(self, url: str, dest: Path, *, max_bytes: int) -> int:
        """GET ``url`` into the file ``dest`` (created or replaced), streamed: at most
        ``max_bytes`` (else :class:`ResponseTooLarge`), within the policy's overall deadline.
        Only a 200 answer is kept (else OutboundError). Returns the size; a failed download
        leaves no file."""
        try:
            async with asyncio.timeout(self.policy.total_timeout):
                target = await resolve(
                    url, allow_private=self.policy.allow_private, resolver=self._resolver
                )
                return await self._fetch_to(target, dest, max_bytes)
        except TimeoutError:
            _remove(dest)
            raise OutboundError(f"timed out after {self.policy.total_timeout:g} s") from None
        except BaseException:
            _remove(dest)
            raise

    async def _fetch_to(self, target: Target, dest: Path, max_bytes: int) -> int:
        response, _ = await self._open(target, "GET", {}, None)
        try:
            if response.status_code != 200:
                raise OutboundError(f"the server answered {response.status_code}, not 200")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ResponseTooLarge(f"the file is larger than {max_bytes} bytes")
            size = 0
            with _create(dest) as out:
                try:
                    async for chunk in response.aiter_raw():
                        size += len(chunk)
                        if size > max_bytes:
                            raise ResponseTooLarge(f"the file is larger than {max_bytes} bytes")
                        await asyncio.to_thread(_write, out, chunk)
                except httpx.TimeoutException as exc:
                    raise OutboundError(
                        f"timed out reading the response ({type(exc).__name__})"
                    ) from None
                except httpx.HTTPError as exc:
                    raise OutboundError(f"reading the response failed: {_describe(exc)}") from None
            return size
        finally:
            await response.aclose()

    async def _open(
        self,
        target: Target,
        method: str,
        headers: Mapping[str, str],
        content: bytes | None,
    ) -> tuple[httpx.Response, str]:
        """The response (streamed, still open) of the first address that connects."""
        sent = {
            "User-Agent": self.policy.user_agent,
            # the raw body is what is read and limited: no decompression (no zip bombs)
            "Accept-Encoding": "identity",
            **headers,
            "Host": target.url.netloc.decode("ascii"),
        }
        extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
        last: Exception | None = None
        for address in target.addresses:
            pinned = target.url.copy_with(host=address)
            request = self._client.build_request(
                method, pinned, headers=sent, content=content, extensions=extensions
            )
            try:
                return await self._client.send(request, stream=True), address
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                last = exc
                continue
            except httpx.TimeoutException as exc:
                raise OutboundError(f"timed out ({type(exc).__name__})") from None
            except httpx.HTTPError as exc:
                raise OutboundError(f"request failed: {_describe(exc)}") from None
        raise OutboundError(f"cannot connect to {target.host}: {_describe(last)}")

    async def _send(
        self,
        target: Target,
        method: str,
        headers: Mapping[str, str],
        content: bytes | None,
        oversize: Literal["error", "truncate"],
    ) -> OutboundResponse:
        response, address = await self._open(target, method, headers, content)
        try:
            body, truncated = await self._read(response, oversize)
        finally:
            await response.aclose()
        return OutboundResponse(response.status_code, response.headers, body, truncated, address)

    async def _read(
        self, response: httpx.Response, oversize: Literal["error", "truncate"]
    ) -> tuple[bytes, bool]:
        limit = self.policy.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_raw():
                if size + len(chunk) > limit:
                    if oversize == "error":
                        raise ResponseTooLarge(f"the response is larger than {limit} bytes")
                    chunks.append(chunk[: limit - size])
                    return b"".join(chunks), True
                chunks.append(chunk)
                size += len(chunk)
        except httpx.TimeoutException as exc:
            raise OutboundError(f"timed out reading the response ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise OutboundError(f"reading the response failed: {_describe(exc)}") from None
        return b"".join(chunks), False


def _create(dest: Path) -> BinaryIO:
    return dest.open("wb")


def _write(out: BinaryIO, chunk: bytes) -> None:
    out.write(chunk)


def _remove(dest: Path) -> None:
    dest.unlink(missing_ok=True)


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "no address"
    text = str(exc) or type(exc).__name__
    return text[:200]
