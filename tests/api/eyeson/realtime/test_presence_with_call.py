"""Presence is the union of a participant's connections: an open ``/rt`` socket or a live media
call (``/call``) each keep them online; only the end of the last one takes them offline, with
one ``participant_update`` and one history leave. Real websockets, a real call (aiortc offer,
the signalling tests' stub media server), ICE on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.realtime.conftest import FAST as RT_FAST
from tests.api.eyeson.realtime.conftest import Cable
from tests.api.eyeson.sepp.conftest import Offer, SeppServer, install_stub, make_offer, serve_sepp
from vidroom.api.eyeson.realtime.config import Realtime
from vidroom.api.eyeson.sepp.wiring import stop_media
from vidroom.media.contract import MediaControl
from vidroom.media.testing import loopback_ice
from vidroom.meetings import live, repository
from vidroom.meetings.models import MeetingAttendance
from vidroom.meetings.presence import REALTIME, presence
from vidroom.settings import Settings
from vidroom.state import AppState

TIMEOUT = 5.0


@pytest.fixture(autouse=True)
def _loopback() -> Iterator[None]:
    with loopback_ice():
        yield


def _install(app: Any, state: AppState) -> MediaControl:
    app.state.realtime = Realtime(RT_FAST)
    return install_stub(app, state)


@pytest.fixture
async def server(settings: Settings, state: AppState) -> AsyncIterator[SeppServer]:
    """The whole app (``/rt`` and ``/call``, stub media) on a loopback port."""
    async for served in serve_sepp(settings, state, _install):
        try:
            yield served
        finally:
            await asyncio.wait_for(stop_media(served.app), 30)


@pytest.fixture
async def offer() -> AsyncIterator[Offer]:
    made = await make_offer()
    yield made
    await made.pc.close()


class Alice:
    """One participant with a realtime socket and a call, and an observer watching them."""

    def __init__(self, server: SeppServer, room: dict[str, Any], observer: Cable) -> None:
        self.server = server
        self.room = room
        self.observer = observer
        options = room["signaling"]["options"]
        self.conf_id: str = options["conf_id"]
        self.client_id: str = options["client_id"]
        self.participant_id = ""

    @classmethod
    async def arrive(cls, server: SeppServer, key: TeamKey) -> Alice:
        room = await server.room(key, "alice")
        url = f"ws://127.0.0.1:{server.port}/rt?room_id=r1"
        observer = await Cable.open(url, additional_headers=key.auth)
        assert await observer.frame() == {"type": "welcome"}
        assert (await observer.subscribe())["type"] == "confirm_subscription"
        await observer.message("room_update")
        alice = cls(server, room, observer)
        async with server.state.db.uow() as uow:
            found = await live.participant_by_client(uow.session, alice.conf_id, alice.client_id)
            assert found is not None
            alice.participant_id = found.id
        return alice

    async def online(self) -> bool:
        async with self.server.state.db.uow() as uow:
            found = await live.participant_by_client(uow.session, self.conf_id, self.client_id)
            assert found is not None
            return found.online

    async def stays(self) -> list[MeetingAttendance]:
        async with self.server.state.db.uow() as uow:
            rows = await repository.attendances(uow.session, [self.conf_id])
            return [r for r in rows if r.participant_key == self.participant_id]

    async def update(self) -> bool:
        """The observer's next ``participant_update`` for alice: her ``online``."""
        message = await self.observer.message("participant_update", TIMEOUT)
        assert message["participant"]["id"] == "alice"
        online: bool = message["participant"]["online"]
        return online

    async def no_update(self, wait: float = 0.6) -> None:
        with pytest.raises(TimeoutError):
            await self.observer.message("participant_update", wait)

    async def rt_released(self) -> None:
        """Wait until the server has handled the close of her realtime socket."""
        for _ in range(int(TIMEOUT / 0.02)):
            if not presence.held(self.participant_id, REALTIME):
                return
            await asyncio.sleep(0.02)
        pytest.fail("the realtime socket's close was not handled")

    async def open_rt(self) -> Cable:
        cable = await Cable.open(
            f"ws://127.0.0.1:{self.server.port}/rt?access_key={self.room['access_key']}"
        )
        await cable.joined()
        assert await self.update() is True
        return cable

    async def call(self, offer: Offer) -> Any:
        sock = await self.server.sock(self.room)
        accepted = await sock.start(offer.sdp)
        assert accepted["type"] == "call_accepted", accepted
        await sock.expect("memberlist")
        return sock


async def test_closing_rt_during_a_call_keeps_alice_online_until_the_call_ends(
    server: SeppServer, acme: TeamKey, offer: Offer
) -> None:
    alice = await Alice.arrive(server, acme)
    cable = await alice.open_rt()
    sock = await alice.call(offer)
    await alice.no_update()  # the call adds nothing: she is online already

    await cable.close()
    await alice.rt_released()
    await alice.no_update()
    assert await alice.online() is True
    (stay,) = await alice.stays()
    assert stay.left_at is None

    call_id = next(m for m in sock.received if m["type"] == "call_accepted")["data"]["call_id"]
    await sock.send("call_terminate", {"call_id": call_id, "term_code": 0})
    assert (await sock.expect("call_terminated"))["data"]["term_code"] == 200
    assert await alice.update() is False
    assert await alice.online() is False
    (stay,) = await alice.stays()  # one stay: no leave and rejoin in between
    assert stay.left_at is not None
    await alice.observer.close()


async def test_ending_the_call_with_rt_open_keeps_alice_online_until_rt_closes(
    server: SeppServer, acme: TeamKey, offer: Offer
) -> None:
    alice = await Alice.arrive(server, acme)
    cable = await alice.open_rt()
    sock = await alice.call(offer)
    await sock.conn.close()  # no goodbye: the call ends once its resume period (1.5 s) is over
    await asyncio.sleep(2.0)
    assert server.hub.call_of(alice.conf_id, alice.participant_id) is None
    await alice.no_update()
    assert await alice.online() is True

    await cable.close()
    assert await alice.update() is False
    assert await alice.online() is False
    (stay,) = await alice.stays()
    assert stay.left_at is not None
    await alice.observer.close()


async def test_a_dropped_call_holds_alice_through_its_resume_period(
    server: SeppServer, acme: TeamKey, offer: Offer
) -> None:
    alice = await Alice.arrive(server, acme)
    cable = await alice.open_rt()
    sock = await alice.call(offer)
    await sock.conn.close()  # the call may still be resumed
    await cable.close()
    await alice.rt_released()
    assert server.hub.call_of(alice.conf_id, alice.participant_id) is not None
    assert await alice.online() is True
    # nobody resumes it: when the period ends, so does her presence
    assert await alice.update() is False
    assert await alice.online() is False
    await alice.observer.close()
