"""Keyframes: a PLI from any receiver reaches the shared encoder; newcomers start fast."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiortc import RTCRtpReceiver

from tests.media.conftest import Client, until
from tests.media.test_call import BLUE, GREEN, RED, sees_everyone
from vidroom.media.supervisor import MediaSupervisor

MakeClient = Callable[[str, tuple[int, int, int], float], Client]


def video_receiver(client: Client) -> RTCRtpReceiver:
    return next(t.receiver for t in client.pc.getTransceivers() if t.kind == "video")


async def test_pli_from_one_receiver_makes_a_keyframe_for_all(
    supervisor: MediaSupervisor, clients: MakeClient
) -> None:
    a, b = clients("a", RED, 500), clients("b", GREEN, 900)
    await a.join(supervisor, "k")
    await b.join(supervisor, "k")
    assert await until(lambda: all(sees_everyone(c, supervisor, "k", [a, b]) for c in (a, b)), 5)
    encoder = supervisor.rooms["k"].renditions.encoder("H264")
    assert encoder is not None
    await asyncio.sleep(encoder.min_keyframe_interval + 0.1)  # out of the rate-limit window
    forced, keyframes, requests = encoder.forced, encoder.keyframes, encoder.requests
    b_frames = b.frames

    receiver = video_receiver(a)
    ssrc = receiver.getSynchronizationSources()[0].source
    await receiver._send_rtcp_pli(ssrc)
    assert await until(lambda: encoder.forced == forced + 1, 1.0)
    assert encoder.requests == requests + 1
    assert encoder.keyframes == keyframes + 1

    # coalesced and rate-limited: a burst of PLIs gives at most one more keyframe soon
    for _ in range(5):
        await receiver._send_rtcp_pli(ssrc)
    await asyncio.sleep(0.3)
    assert encoder.forced <= forced + 2
    # the other receiver kept decoding without a restart
    assert b.frames > b_frames + 3
    assert sees_everyone(b, supervisor, "k", [a, b])


async def test_newcomer_decodes_first_frame_within_a_second(
    supervisor: MediaSupervisor, clients: MakeClient
) -> None:
    a, b = clients("a", RED, 500), clients("b", GREEN, 900)
    await a.join(supervisor, "n")
    await b.join(supervisor, "n")
    assert await until(lambda: all(c.frames > 5 for c in (a, b)), 5)
    c = clients("c", BLUE, 1300)
    started = time.monotonic()
    await c.join(supervisor, "n")
    assert await until(lambda: c.first_frame_at is not None, 2)
    assert c.first_frame_at is not None
    took = c.first_frame_at - started
    print(f"newcomer's first decoded frame after {took:.3f}s")
    assert took < 1.0
    everyone = [a, b, c]
    assert await until(
        lambda: all(sees_everyone(x, supervisor, "n", everyone) for x in everyone), 3
    )
    assert supervisor.stats().rooms[0].dropped_frames == 0
