"""A client that stops reading is dropped; everyone else keeps getting their frames on time."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import socket
import time

import pytest
from websockets.asyncio.client import connect

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.realtime.conftest import PROTOCOLS, Cable, RtServer
from vidroom.api.eyeson.realtime.config import RealtimeConfig
from vidroom.events.bus import meeting_topic
from vidroom.events.catalogue import MessageSent

MOST = 6000  # messages; kernel socket buffers hold a few MB before the server sees backpressure
SIZE = 6000  # random bytes per message, so that permessage-deflate cannot shrink it


def chat(meeting_id: str, n: int) -> MessageSent:
    noise = base64.b64encode(os.urandom(SIZE)).decode()
    return MessageSent(
        team_id="t",
        meeting_id=meeting_id,
        kind="chat",
        content=f"{n:08d}{noise}",
        client_id="c",
        user_id="u",
    )


async def test_a_slow_client_never_delays_the_others(
    rt_server: RtServer, acme: TeamKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vidroom.api.eyeson.realtime")
    rt_server.realtime.config = RealtimeConfig(ping_seconds=0.3, send_queue=32, close_seconds=1)
    fast_room = await rt_server.room(acme, "fast")
    slow_room = await rt_server.room(acme, "slow")
    state = rt_server.state
    meeting_id = fast_room["signaling"]["options"]["conf_id"]
    topic = meeting_topic(meeting_id)

    # the slow client: a tiny receive window, and it stops reading once subscribed
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", rt_server.port))
    slow = Cable(
        await connect(
            f"{rt_server.ws}?access_key={slow_room['access_key']}",
            subprotocols=PROTOCOLS,  # type: ignore[arg-type]
            sock=sock,
            max_queue=1,
        )
    )
    fast = await rt_server.participant(fast_room["access_key"])
    received: list[int] = []
    progress = asyncio.Event()

    async def read_fast() -> None:
        while True:
            message = (await fast.frame())["message"]
            if message["type"] == "chat":
                received.append(int(message["content"][:8]))
                progress.set()

    reader: asyncio.Task[None] | None = None
    try:
        await slow.joined()
        await fast.joined()
        assert state.bus.subscriber_count(topic) == 2
        reader = asyncio.create_task(read_fast())
        sent = 0
        # flood until the server gives up on the slow client
        while state.bus.subscriber_count(topic) == 2 and sent < MOST:
            await state.events.publish(chat(meeting_id, sent))
            sent += 1
            while sent - len(received) > 16:  # keep pace with the fast client only
                progress.clear()
                await asyncio.wait_for(progress.wait(), 5)
            await asyncio.sleep(0)
        assert state.bus.subscriber_count(topic) == 1, "the slow client was never dropped"
        assert any("dropping the client: too slow" in r.getMessage() for r in caplog.records)

        # the slow client is stuck with full buffers: the fast one is served at once
        started = time.monotonic()
        await state.events.publish(chat(meeting_id, sent))
        async with asyncio.timeout(5):
            while len(received) <= sent:
                progress.clear()
                await progress.wait()
        assert time.monotonic() - started < 1
        assert received == list(range(sent + 1))  # every one, in order
    finally:
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        slow.conn.transport.abort()
        await fast.close()
