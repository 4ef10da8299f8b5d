"""``vidroom bot join URL``: links, the parser, and a bot in a real meeting."""

from __future__ import annotations

import argparse

import pytest

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.sepp.conftest import SeppServer
from vidroom.client.cli import add_bot_parser, run_bot
from vidroom.client.links import Link, parse_link


def test_links() -> None:
    assert parse_link("https://v.example.com/join?abc123") == Link(
        "https://v.example.com", access_key="abc123"
    )
    assert parse_link("http://127.0.0.1:8080/join?guest=g1") == Link(
        "http://127.0.0.1:8080", guest_token="g1"
    )
    assert parse_link("https://v.example.com/base/rooms/k1") == Link(
        "https://v.example.com/base", access_key="k1"
    )
    for bad in ("", "ftp://x/join?a", "https://v.example.com/", "https://v.example.com/join?a=b"):
        with pytest.raises(ValueError, match="link"):
            parse_link(bad)


def _parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="vidroom")
    add_bot_parser(root.add_subparsers(dest="command", required=True))
    return root


def test_parser() -> None:
    args = _parser().parse_args(
        ["bot", "join", "http://h/join?k", "--colour", "ff0000", "--seconds", "2"]
    )
    assert (args.url, args.colour, args.seconds, args.tone) == (
        "http://h/join?k",
        (255, 0, 0),
        2.0,
        440.0,
    )
    assert callable(args.run)
    with pytest.raises(SystemExit):
        _parser().parse_args(["bot", "join", "http://h/join?k", "--colour", "red"])


async def test_bot_joins_reports_and_leaves(
    media_server: SeppServer, acme: TeamKey, capsys: pytest.CaptureFixture[str]
) -> None:
    room = await media_server.room(acme, "host")
    link = room["links"]["guest_join"]
    args = _parser().parse_args(["bot", "join", link, "--name", "Bot", "--seconds", "2.5"])
    assert await run_bot(args) == 0
    out = capsys.readouterr().out
    assert "joined as" in out
    assert "video 1280x960" in out
    assert out.rstrip().endswith("left")
