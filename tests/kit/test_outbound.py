"""The guarded outbound HTTP client, against real local HTTP servers."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.webhooks.receiver import Receiver
from vidroom.kit.outbound import (
    OutboundClient,
    OutboundError,
    OutboundPolicy,
    RefusedURL,
    ResponseTooLarge,
    refusal,
    resolve,
)

REFUSED_WITHOUT_FLAG = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/",
    "http://[::1]/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://0.0.0.0/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://localhost/",
    "http://2130706433/",  # decimal 127.0.0.1
    "http://0x7f.1/",  # hex and short form
    "http://017700000001/",  # octal
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


@pytest.mark.parametrize("url", REFUSED_WITHOUT_FLAG)
async def test_private_and_loopback_refused(url: str) -> None:
    with pytest.raises(RefusedURL):
        await resolve(url, allow_private=False)


@pytest.mark.parametrize("url", ["http://LOCALHOST./", "http://api.localhost/"])
async def test_loopback_names_refused_without_resolving(url: str) -> None:
    with pytest.raises(RefusedURL):
        await resolve(url, allow_private=False)


@pytest.mark.parametrize("url", REFUSED_WITHOUT_FLAG)
async def test_allowed_with_the_flag(url: str) -> None:
    target = await resolve(url, allow_private=True)
    assert target.addresses


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "javascript:alert(1)",
        "http://",
        "http:///path",
        "http://exa mple.com/",
        "http://ex%41mple.com/",
        "http://0177.0.0.1/",  # rejected by the URL parser already
        "http://example.com/\r\nX-Injected: 1",
        "http://example.com/" + "a" * 2000,
        "",
    ],
)
async def test_malformed_urls_refused(url: str) -> None:
    with pytest.raises(RefusedURL):
        await resolve(url, allow_private=True)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::1", "10.0.0.1", "::ffff:192.168.0.1", "2002:7f00:1::", "64:ff9b::a00:1"],
)
def test_refusal_reasons(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


async def test_every_resolved_address_is_checked() -> None:
    async def mixed(host: str, port: int) -> list[str]:
        return ["8.8.8.8", "127.0.0.1"]

    with pytest.raises(RefusedURL, match=r"127\.0\.0\.1"):
        await resolve("https://hooks.example.com/x", allow_private=False, resolver=mixed)
    target = await resolve("https://hooks.example.com/x", allow_private=True, resolver=mixed)
    assert target.addresses == ("8.8.8.8", "127.0.0.1")


async def test_request_refused_before_any_connection(receiver: Receiver) -> None:
    client = OutboundClient(OutboundPolicy(allow_private=False))
    try:
        with pytest.raises(RefusedURL):
            await client.request("POST", receiver.url + "/x", content=b"{}")
    finally:
        await client.aclose()
    assert receiver.received() == []


async def test_resolved_once_and_pinned(receiver: Receiver) -> None:
    """The name is resolved once, the socket goes to that address, Host keeps the name."""
    calls: list[str] = []

    async def fake_dns(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    client = OutboundClient(OutboundPolicy(allow_private=True), resolver=fake_dns)
    try:
        url = f"http://hooks.example.test:{receiver.port}/pinned"
        response = await client.request("POST", url, headers={"X-A": "1"}, content=b"hello")
    finally:
        await client.aclose()
    assert response.status_code == 200
    assert response.address == "127.0.0.1"
    assert calls == ["hooks.example.test"]
    [got] = receiver.received()
    assert got.path == "/pinned"
    assert got.headers["host"] == f"hooks.example.test:{receiver.port}"
    assert got.headers["x-a"] == "1"
    assert got.body == b"hello"


async def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.status = 302
    receiver.headers = {"Location": "http://169.254.169.254/"}
    client = OutboundClient(OutboundPolicy(allow_private=True))
    try:
        response = await client.request("GET", receiver.url + "/r")
    finally:
        await client.aclose()
    assert response.status_code == 302
    assert len(receiver.received()) == 1


async def test_oversized_response_refused_or_cut(receiver: Receiver) -> None:
    receiver.body = b"x" * 200_000
    client = OutboundClient(OutboundPolicy(allow_private=True, max_response_bytes=1000))
    try:
        with pytest.raises(ResponseTooLarge):
            await client.request("GET", receiver.url + "/big")
        cut = await client.request("GET", receiver.url + "/big", oversize="truncate")
    finally:
        await client.aclose()
    assert cut.status_code == 200
    assert cut.truncated
    assert cut.body == b"x" * 1000


async def test_timeout_is_honoured(receiver: Receiver) -> None:
    receiver.delay = 3.0
    client = OutboundClient(
        OutboundPolicy(allow_private=True, connect_timeout=0.5, read_timeout=0.5, total_timeout=0.8)
    )
    started = time.monotonic()
    try:
        with pytest.raises(OutboundError, match="timed out"):
            await client.request("POST", receiver.url + "/slow", content=b"{}")
    finally:
        await client.aclose()
    assert time.monotonic() - started < 2.0


async def test_connection_refused_is_an_outbound_error() -> None:
    client = OutboundClient(OutboundPolicy(allow_private=True, total_timeout=3))
    try:
        with pytest.raises(OutboundError, match="cannot connect"):
            await client.request("POST", f"http://127.0.0.1:{free_port()}/", content=b"{}")
    finally:
        await client.aclose()


async def _until_close_server(body: bytes) -> tuple[asyncio.Server, str]:
    """A 200 without Content-Length: the body runs until the connection closes."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        for start in range(0, len(body), 4096):
            writer.write(body[start : start + 4096])
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/file"


async def test_download_streams_to_a_file_within_its_limit(
    receiver: Receiver, tmp_path: Path
) -> None:
    receiver.body = bytes(range(256)) * 400
    dest = tmp_path / "file"
    client = OutboundClient(OutboundPolicy(allow_private=True))
    try:
        size = await client.download(receiver.url + "/f.mp4", dest, max_bytes=len(receiver.body))
        assert size == len(receiver.body)
        assert dest.read_bytes() == receiver.body
        # the declared length is over the limit: refused before reading, no file left
        with pytest.raises(ResponseTooLarge):
            await client.download(receiver.url + "/f.mp4", dest, max_bytes=1000)
        assert not dest.exists()
        # no declared length: cut off while streaming
        server, url = await _until_close_server(b"y" * 300_000)
        async with server:
            with pytest.raises(ResponseTooLarge):
                await client.download(url, dest, max_bytes=100_000)
            assert not dest.exists()
            assert await client.download(url, dest, max_bytes=300_000) == 300_000
        receiver.status = 404
        with pytest.raises(OutboundError, match="404"):
            await client.download(receiver.url + "/gone", dest, max_bytes=10**6)
        assert not dest.exists()
    finally:
        await client.aclose()
    strict = OutboundClient(OutboundPolicy())
    try:
        with pytest.raises(RefusedURL):
            await strict.download(receiver.url + "/f.mp4", dest, max_bytes=10**6)
    finally:
        await strict.aclose()
    assert not dest.exists()
