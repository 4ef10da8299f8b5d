"""RTMP(S) ingest URLs: form, redaction, one resolution, refused addresses."""

from __future__ import annotations

import asyncio

import pytest

from vidroom.kit.outbound import OutboundError, Resolver
from vidroom.kit.stream_url import StreamURLError, check, parse, redact


def test_a_plain_rtmp_url_is_parsed_with_its_default_port() -> None:
    parsed = parse("rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl")
    assert (parsed.scheme, parsed.host, parsed.port, parsed.app) == (
        "rtmp",
        "a.rtmp.youtube.com",
        1935,
        "live2",
    )
    assert parsed.redacted == "rtmp://a.rtmp.youtube.com:1935/live2/***"
    assert "abcd" not in parsed.redacted


def test_rtmps_defaults_to_443_and_keeps_a_deeper_app_path_and_a_query_in_the_key() -> None:
    parsed = parse("RTMPS://Live-API-S.facebook.com/rtmp/app/FB-123?s_bl=1&a=xyz")
    assert (parsed.scheme, parsed.host, parsed.port, parsed.app) == (
        "rtmps",
        "live-api-s.facebook.com",
        443,
        "rtmp/app",
    )
    assert parsed.redacted == "rtmps://live-api-s.facebook.com:443/rtmp/app/***"
    assert "xyz" not in parsed.redacted
    assert "FB-123" not in parsed.redacted


def test_ip_literals_and_ports() -> None:
    assert parse("rtmp://[::1]:19350/live/k").redacted == "rtmp://[::1]:19350/live/***"
    assert parse("rtmp://127.0.0.1:1936/live/k").host == "127.0.0.1"


def test_unicode_host_names_are_idna_encoded() -> None:
    assert parse("rtmp://bücher.example/live/k").host == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (None, "required"),
        ("", "required"),
        ("   ", "required"),
        ("http://example.com/live/key", "rtmp:// or rtmps://"),
        ("rtmpt://example.com/live/key", "rtmp:// or rtmps://"),
        ("srt://example.com/live/key", "rtmp:// or rtmps://"),
        ("rtmp:example.com/live/key", "rtmp:// or rtmps://"),
        ("example.com/live/key", "rtmp:// or rtmps://"),
        ("rtmp://user:pw@example.com/live/key", "user info"),
        ("rtmp://example.com/live/key#frag", "fragment"),
        ("rtmp:///live/key", "no host"),
        ("rtmp://exa mple.com/live/key", "spaces or control"),
        ("rtmp://example.com/live/ke\x00y", "spaces or control"),
        ("rtmp://example.com/live/key\n", "spaces or control"),
        ("rtmp://example.com/live/k\u0085", "spaces or control"),
        ("rtmp://example.com:99999/live/key", "port"),
        ("rtmp://example.com:0/live/key", "port"),
        ("rtmp://example.com:abc/live/key", "port"),
        ("rtmp://example.com/key", "application path and a stream key"),
        ("rtmp://example.com/live/", "application path and a stream key"),
        ("rtmp://example.com//key", "application path and a stream key"),
        ("rtmp://example.com", "application path and a stream key"),
        ("rtmp://ex_ample..com/live/key", "host name"),
        ("rtmp://-bad-.com/live/key", "host name"),
        ("rtmp://example.com/li\u00fcve/key", "path"),
        ("rtmp://example.com/live/k\u00fcy", "stream key"),
        ("rtmp://example.com/live/" + "k" * 600, "stream key"),
        ("rtmp://example.com/live/" + "k" * 2000, "at most 2000"),
        ("rtmp://[::1/live/key", "host"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(raw: object, why: str) -> None:
    with pytest.raises(StreamURLError, match=why) as caught:
        parse(raw)
    assert "pw" not in str(caught.value)


def test_redact_never_returns_a_key() -> None:
    assert redact("rtmp://example.com/live/secret-key") == "rtmp://example.com:1935/live/***"
    assert "secret" not in redact("rtmp://user:secret@example.com/live/secret")


def _resolver(answers: dict[str, list[str]]) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OutboundError(f"cannot resolve {host}")
        return answers[host]

    return resolve


async def test_check_resolves_once_and_keeps_the_addresses_in_order() -> None:
    calls: list[tuple[str, int]] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]

    checked = await check("rtmp://ingest.example.com/live/k", allow_private=False, resolver=resolve)
    assert checked.addresses == ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")
    assert calls == [("ingest.example.com", 1935)]
    assert checked.url == "rtmp://ingest.example.com/live/k"


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        ("rtmp://127.0.0.1/live/k", {}),
        ("rtmp://[::1]/live/k", {}),
        ("rtmp://10.1.2.3/live/k", {}),
        ("rtmp://169.254.169.254/live/k", {}),
        ("rtmp://[::ffff:127.0.0.1]/live/k", {}),
        ("rtmp://0.0.0.0/live/k", {}),
        ("rtmp://localhost/live/k", {}),
        ("rtmp://stream.localhost/live/k", {}),
        # one private address among public ones refuses the whole name
        (
            "rtmp://mixed.example.com/live/k",
            {"mixed.example.com": ["93.184.216.34", "192.168.0.5"]},
        ),
    ],
)
async def test_private_loopback_and_link_local_are_refused(
    url: str, answers: dict[str, list[str]]
) -> None:
    with pytest.raises(StreamURLError, match="refused"):
        await check(url, allow_private=False, resolver=_resolver(answers))


async def test_allow_private_lets_loopback_through() -> None:
    checked = await check("rtmp://127.0.0.1:1935/live/k", allow_private=True)
    assert checked.addresses == ("127.0.0.1",)
    checked = await check("rtmp://localhost:1935/live/k", allow_private=True)
    assert set(checked.addresses) <= {"127.0.0.1", "::1"}
    assert checked.addresses


async def test_a_name_that_does_not_resolve_or_hangs_is_refused() -> None:
    with pytest.raises(StreamURLError, match="cannot resolve"):
        await check(
            "rtmp://nowhere.example.com/live/k", allow_private=False, resolver=_resolver({})
        )

    async def hang(host: str, port: int) -> list[str]:
        await asyncio.sleep(30)
        return []

    with pytest.raises(StreamURLError, match="timed out"):
        await check(
            "rtmp://slow.example.com/live/k",
            allow_private=False,
            resolver=hang,
            resolve_seconds=0.05,
        )
