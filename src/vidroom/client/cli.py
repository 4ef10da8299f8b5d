"""``vidroom bot join URL``: join a meeting with a colour and a tone and report what arrives."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from typing import Any

from vidroom.client.links import parse_link


def _colour(value: str) -> tuple[int, int, int]:
    text = value.lstrip("#")
    if len(text) != 6:
        raise argparse.ArgumentTypeError("a colour is RRGGBB in hex")
    try:
        return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))
    except ValueError:
        raise argparse.ArgumentTypeError("a colour is RRGGBB in hex") from None


def add_bot_parser(subparsers: Any) -> None:
    """Add ``bot join`` to the ``vidroom`` command's subparsers."""
    bot = subparsers.add_parser("bot", help="a participant for quick manual tests")
    bot_sub = bot.add_subparsers(dest="action", required=True)
    join = bot_sub.add_parser(
        "join", help="join by link (links.gui, links.guest_join or links.self) and report"
    )
    join.add_argument("url", help="the meeting link")
    join.add_argument("--name", default="vidroom bot")
    join.add_argument("--colour", "--color", type=_colour, default=(0, 160, 255))
    join.add_argument("--tone", type=float, default=440.0, help="Hz")
    join.add_argument("--seconds", type=float, default=0.0, help="leave after this; 0: Ctrl-C")
    join.set_defaults(run=cmd_bot_join)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def run_bot(args: argparse.Namespace) -> int:
    # the media stack loads only when a bot runs, not with every ``vidroom`` command
    from vidroom.client.participant import JoinError, Participant
    from vidroom.media.testing import ColorVideoTrack, ToneAudioTrack

    link = parse_link(args.url)
    try:
        participant = await Participant.join(
            link.base_url,
            access_key=link.access_key,
            guest_link=link.guest_token,
            name=args.name,
            video=ColorVideoTrack(args.colour),
            audio=ToneAudioTrack(args.tone),
        )
    except JoinError as exc:
        sys.stderr.write(f"vidroom bot: could not join: {exc}\n")
        return 1
    _say(f"joined as {participant.client_id} (call {participant.call_id})")
    deadline = time.monotonic() + args.seconds if args.seconds > 0 else None
    frames, started, size = 0, time.monotonic(), (0, 0)
    try:
        while deadline is None or time.monotonic() < deadline:
            if participant.terminated.done():
                _say(f"call ended by the server ({participant.terminated.result()})")
                return 0
            try:
                frame = await participant.next_video_frame(within=1.0)
            except TimeoutError:
                continue
            frames += 1
            size = (frame.width, frame.height)
            elapsed = time.monotonic() - started
            if elapsed >= 2.0:
                _say(
                    f"video {size[0]}x{size[1]} at {frames / elapsed:.1f} fps; "
                    f"members: {', '.join(participant.members) or '-'}"
                )
                frames, started = 0, time.monotonic()
    finally:
        await participant.leave()
        _say("left")
    return 0


def cmd_bot_join(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(run_bot(args))
    except ValueError as exc:
        sys.stderr.write(f"vidroom bot: {exc}\n")
        return 2
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            _say("interrupted")
        return 130
