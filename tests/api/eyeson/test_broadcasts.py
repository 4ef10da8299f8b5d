"""Live broadcasts through the meeting API: the routes, their errors, what the media server is
asked for, and what /rt, observers and webhooks are told (a real uvicorn, real websockets, the
real database; the media server is the contract's broadcast half, tests/broadcasts)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.realtime.conftest import FAST, Cable
from tests.broadcasts.contract_media import ContractMedia
from tests.conftest import free_port
from vidroom.api.eyeson.realtime.config import Realtime
from vidroom.api.eyeson.sepp.config import SeppConfig
from vidroom.api.eyeson.sepp.events import SeppMediaEvents
from vidroom.api.eyeson.sepp.hub import Hub
from vidroom.app import create_app
from vidroom.broadcasts.models import Broadcast
from vidroom.events.models import OutboxEvent
from vidroom.media.contract import MediaError
from vidroom.settings import Settings
from vidroom.state import AppState
from vidroom.webhooks.models import WebhookDelivery

KEY = "sk-live-0123456789abcdef"
URL = f"rtmp://127.0.0.1:1935/live/{KEY}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.outbound_allow_private = True
    settings.broadcast_connect_seconds = 3.0
    settings.broadcast_give_up_seconds = 20.0
    return settings


@dataclass
class Env:
    http: httpx.AsyncClient
    state: AppState
    media: ContractMedia
    events: SeppMediaEvents
    port: int
    settings: Settings

    async def room(
        self, key: TeamKey, *, members: int = 1, extra: dict[str, str] | None = None
    ) -> dict[str, Any]:
        data = {"id": "r1", "user[name]": "host", "user[id]": "host", **(extra or {})}
        response = await self.http.post("/rooms", data=data, headers=key.auth)
        assert response.status_code == 201, response.text
        room: dict[str, Any] = response.json()
        for n in range(members):
            self.media.add_member(meeting_of(room), f"m{n}")
        return room

    async def cable(self, access_key: str) -> Cable:
        cable = await Cable.open(f"ws://127.0.0.1:{self.port}/rt?access_key={access_key}")
        setup = await cable.joined()
        cable.first = setup
        return cable

    async def rows(self) -> list[Broadcast]:
        async with self.state.db.uow() as uow:
            found = await uow.session.execute(select(Broadcast).order_by(Broadcast.created_at))
            return list(found.scalars().all())


def meeting_of(room: dict[str, Any]) -> str:
    conf_id: str = room["signaling"]["options"]["conf_id"]
    return conf_id


@pytest.fixture
async def env(settings: Settings, state: AppState) -> AsyncIterator[Env]:
    app = create_app(settings, state)
    app.state.realtime = Realtime(FAST)
    media = ContractMedia()
    hub = Hub(state.db, media, SeppConfig())  # type: ignore[arg-type]
    app.state.sepp = hub
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done()
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield Env(http, state, media, SeppMediaEvents(hub), port, settings)
    finally:
        server.should_exit = True
        await task


async def test_start_update_stop(env: Env, acme: TeamKey) -> None:
    room = await env.room(acme)
    ak = room["access_key"]
    response = await env.http.post(
        f"/rooms/{ak}/broadcasts",
        data={"stream_url": URL, "player_url": "https://watch.example.com/x"},
    )
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["platform"] == "generic"
    assert made["player_url"] == "https://watch.example.com/x"
    assert made["user"]["id"] == "host"
    assert made["room"]["id"] == "r1"
    assert (made["state"], made["reconnects"]) == ("starting", 0)
    # the media server got the full URL, the checked address and the settings' timeouts
    ((meeting_id, target),) = env.media.started
    assert meeting_id == meeting_of(room)
    assert (target.broadcast_id, target.url, target.addresses) == (made["id"], URL, ["127.0.0.1"])
    assert (target.connect_timeout, target.give_up_after) == (3.0, 20.0)
    # the key is nowhere else: response, room, database
    listed = (await env.http.get(f"/rooms/{ak}")).json()["broadcasts"]
    assert listed == [made]
    # so do the room responses of people who join now, host or guest
    joined = await env.http.post(
        "/rooms", data={"id": "r1", "user[name]": "second"}, headers=acme.auth
    )
    assert joined.json()["broadcasts"] == [made]
    guest = await env.http.post(f"/guests/{room['room']['guest_token']}", data={"name": "g"})
    assert guest.json()["broadcasts"] == [made]
    (row,) = await env.rows()
    assert row.stream_redacted == "rtmp://127.0.0.1:1935/live/***"
    assert KEY not in response.text + json.dumps(listed) + repr(row.__dict__)

    put = await env.http.put(f"/rooms/{ak}/broadcasts", json={"player_url": "http://p.example/2"})
    assert put.status_code == 200
    assert put.json()["player_url"] == "http://p.example/2"
    put = await env.http.put(f"/rooms/{ak}/broadcasts/generic", files={"player_url": (None, "")})
    assert put.status_code == 200
    assert put.json()["player_url"] == ""
    other = await env.http.put(f"/rooms/{ak}/broadcasts/youtube", data={"player_url": ""})
    assert other.status_code == 404
    assert "platform" in other.json()["error"]
    assert (await env.http.delete(f"/rooms/{ak}/broadcasts/youtube")).status_code == 404

    assert (await env.http.delete(f"/rooms/{ak}/broadcasts/generic")).status_code == 200
    assert env.media.stopped == [(meeting_of(room), made["id"])]
    assert (await env.http.get(f"/rooms/{ak}")).json()["broadcasts"] == []
    again = await env.http.delete(f"/rooms/{ak}/broadcasts")
    assert again.status_code == 404
    assert again.json() == {"error": "no broadcast is running"}
    put = await env.http.put(f"/rooms/{ak}/broadcasts", data={"player_url": ""})
    assert put.status_code == 404
    (row,) = await env.rows()
    assert (row.state, row.reason, row.ended_at is not None) == ("ended", "stopped", True)
    # a new one may start after the last ended (query string parameters, legacy platform)
    response = await env.http.post(
        f"/rooms/{ak}/broadcasts", params={"stream_url": URL, "platform": "YouTube"}
    )
    assert response.status_code == 201
    assert response.json()["platform"] == "youtube"
    assert (await env.http.delete(f"/rooms/{ak}/broadcasts/youtube")).status_code == 200


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({}, "stream_url is required"),
        ({"stream_url": ""}, "stream_url is required"),
        ({"stream_url": "http://127.0.0.1/live/k"}, "rtmp:// or rtmps://"),
        ({"stream_url": "rtmp//127.0.0.1/live/k"}, "rtmp:// or rtmps://"),
        ({"stream_url": "rtmp://127.0.0.1/k"}, "application path and a stream key"),
        ({"stream_url": "rtmp://127.0.0.1:70000/live/k"}, "port"),
        ({"stream_url": "rtmp://u:p@127.0.0.1/live/k"}, "user info"),
        ({"stream_url": "rtmp://127.0.0.1/live/k\x00"}, "NUL"),
        ({"stream_url": "rtmp://127.0.0.1/live/k\x01"}, "control characters"),
        ({"stream_url": "rtmp://127.0.0.1/live/" + "k" * 5000}, "at most 2000"),
        ({"stream_url": "rtmp://\u2603\u2603.invalid/live/k"}, "resolve"),
        ({"stream_url": "rtmp://127.0.0.1/live/\u00e9t\u00e9"}, "stream key"),
        ({"stream_url": ["rtmp://127.0.0.1/live/k"]}, "must be a string"),
        ({"stream_url": URL, "player_url": "ftp://x/y"}, "player_url must be an http(s) URL"),
        ({"stream_url": URL, "player_url": "https://x/\x07"}, "control characters"),
        ({"stream_url": URL, "platform": "you tube"}, "platform"),
    ],
)
async def test_bad_input_is_a_400_with_a_reason(
    env: Env, acme: TeamKey, body: dict[str, Any], why: str
) -> None:
    room = await env.room(acme)
    response = await env.http.post(f"/rooms/{room['access_key']}/broadcasts", json=body)
    assert response.status_code == 400, response.text
    assert why in response.json()["error"]
    assert "kkkkkkkkkk" not in response.text
    assert env.media.started == []
    assert await env.rows() == []


async def test_private_addresses_are_refused_unless_outbound_private_is_allowed(
    env: Env, acme: TeamKey
) -> None:
    room = await env.room(acme)
    env.settings.outbound_allow_private = False
    env.settings.webhooks_allow_private = True  # the webhooks' switch does not open broadcasts
    for url in (URL, "rtmp://localhost/live/k", "rtmps://[::1]/live/k", "rtmp://10.0.0.1/a/k"):
        response = await env.http.post(
            f"/rooms/{room['access_key']}/broadcasts", data={"stream_url": url}
        )
        assert response.status_code == 400, response.text
        assert "refused" in response.json()["error"]
        assert KEY not in response.text
    assert env.media.started == []
    env.settings.outbound_allow_private = True
    response = await env.http.post(
        f"/rooms/{room['access_key']}/broadcasts", data={"stream_url": URL}
    )
    assert response.status_code == 201


def test_both_switches_open_webhooks_and_only_the_outbound_one_broadcasts(
    settings: Settings,
) -> None:
    from vidroom.webhooks.delivery import WorkerConfig

    settings.outbound_allow_private = False
    settings.webhooks_allow_private = False
    assert not WorkerConfig.from_settings(settings).allow_private
    settings.webhooks_allow_private = True
    assert WorkerConfig.from_settings(settings).allow_private
    settings.webhooks_allow_private = False
    settings.outbound_allow_private = True
    assert WorkerConfig.from_settings(settings).allow_private


async def test_405_406_and_410(env: Env, acme: TeamKey) -> None:
    off = await env.room(acme, extra={"id": "off", "options[broadcast_available]": "false"})
    response = await env.http.post(
        f"/rooms/{off['access_key']}/broadcasts", data={"stream_url": URL}
    )
    assert response.status_code == 405
    assert "not enabled" in response.json()["error"]

    empty = await env.room(acme, members=0, extra={"id": "empty"})
    response = await env.http.post(
        f"/rooms/{empty['access_key']}/broadcasts", data={"stream_url": URL}
    )
    assert response.status_code == 406
    assert "nobody" in response.json()["error"]

    room = await env.room(acme)
    ak = room["access_key"]
    assert (
        await env.http.post(f"/rooms/{ak}/broadcasts", data={"stream_url": URL})
    ).status_code == 201
    twice = await env.http.post(f"/rooms/{ak}/broadcasts", data={"stream_url": URL})
    assert twice.status_code == 406
    assert twice.json() == {"error": "a broadcast is already running"}
    assert len(env.media.started) == 1

    assert (await env.http.delete(f"/rooms/{ak}")).status_code == 204
    (row,) = await env.rows()
    assert (row.state, row.reason) == ("ended", "meeting_ended")
    for method, path in (
        ("POST", "/broadcasts"),
        ("PUT", "/broadcasts"),
        ("PUT", "/broadcasts/generic"),
        ("DELETE", "/broadcasts"),
        ("DELETE", "/broadcasts/generic"),
    ):
        response = await env.http.request(method, f"/rooms/{ak}{path}", data={"stream_url": URL})
        assert response.status_code == 410, (method, path, response.text)
        assert response.json() == {"error": "the meeting is over"}
    assert (
        await env.http.post("/rooms/nope/broadcasts", data={"stream_url": URL})
    ).status_code == 404


async def test_a_media_refusal_ends_the_reserved_broadcast(env: Env, acme: TeamKey) -> None:
    room = await env.room(acme)
    env.media.refuse_next = MediaError(503, "no capacity")
    response = await env.http.post(
        f"/rooms/{room['access_key']}/broadcasts", data={"stream_url": URL}
    )
    assert response.status_code == 503, response.text
    (row,) = await env.rows()
    assert (row.state, row.reason) == ("failed", "no capacity")
    # the meeting may try again
    response = await env.http.post(
        f"/rooms/{room['access_key']}/broadcasts", data={"stream_url": URL}
    )
    assert response.status_code == 201


async def test_rt_and_observers_follow_the_media_reports(env: Env, acme: TeamKey) -> None:
    room = await env.room(acme)
    ak, meeting_id = room["access_key"], meeting_of(room)
    cable = await env.cable(ak)
    observer = await Cable.open(
        f"ws://127.0.0.1:{env.port}/rt?room_id=r1", additional_headers=acme.auth
    )
    assert await observer.frame() == {"type": "welcome"}
    await observer.subscribe()
    assert (await observer.message("room_update"))["content"]["broadcasts"] == []

    made = (await env.http.post(f"/rooms/{ak}/broadcasts", data={"stream_url": URL})).json()

    async def both() -> list[dict[str, Any]]:
        a = await cable.message("broadcasts_update")
        b = await observer.message("broadcasts_update")
        assert a == b
        assert KEY not in json.dumps(a)
        broadcasts: list[dict[str, Any]] = a["broadcasts"]
        return broadcasts

    assert [b["state"] for b in await both()] == ["starting"]
    await env.events.broadcast_state(meeting_id, made["id"], "live", None)
    assert [(b["id"], b["state"]) for b in await both()] == [(made["id"], "live")]
    await env.events.broadcast_state(meeting_id, made["id"], "reconnecting", "connection reset")
    assert [(b["state"], b["reconnects"]) for b in await both()] == [("reconnecting", 1)]
    await env.events.broadcast_state(meeting_id, made["id"], "live", None)
    assert [(b["state"], b["reconnects"]) for b in await both()] == [("live", 1)]
    assert (await env.http.get(f"/rooms/{ak}")).json()["broadcasts"][0]["state"] == "live"
    late = await env.cable(ak)  # room_setup of a socket opened now lists it too
    assert [(b["id"], b["state"]) for b in late.first["broadcasts"]] == [(made["id"], "live")]
    await late.close()
    # a report for another meeting changes nothing
    await env.events.broadcast_state("another", made["id"], "failed", "x")
    await env.events.broadcast_state(meeting_id, made["id"], "failed", "no answer within 3 s")
    assert await both() == []
    (row,) = await env.rows()
    assert (row.state, row.reason, row.reconnects) == ("failed", "no answer within 3 s", 1)
    # reports after the end are ignored
    await env.events.broadcast_state(meeting_id, made["id"], "live", None)
    assert (await env.rows())[0].state == "failed"

    async with env.state.db.uow() as uow:
        found = await uow.session.execute(
            select(OutboxEvent.type, OutboxEvent.payload)
            .where(OutboxEvent.type.like("streaming.%"))
            .order_by(OutboxEvent.created_at, OutboxEvent.id)
        )
        events = [(kind, payload.get("reason")) for kind, payload in found.all()]
    assert events == [
        ("streaming.started", None),
        ("streaming.connected", None),
        ("streaming.reconnecting", "connection reset"),
        ("streaming.connected", None),
        ("streaming.error", "no answer within 3 s"),
    ]
    await cable.close()
    await observer.close()


async def test_room_lost_fails_the_broadcast(env: Env, acme: TeamKey) -> None:
    room = await env.room(acme)
    ak = room["access_key"]
    assert (
        await env.http.post(f"/rooms/{ak}/broadcasts", data={"stream_url": URL})
    ).status_code == 201
    await env.events.room_lost(meeting_of(room), [])
    (row,) = await env.rows()
    assert (row.state, row.reason) == ("failed", "media_lost")
    assert (await env.http.get(f"/rooms/{ak}")).json()["broadcasts"] == []


async def test_the_webhook_broadcast_update_carries_the_broadcast_without_its_key(
    env: Env, acme: TeamKey
) -> None:
    hook = await env.http.post(
        "/webhooks",
        data={"url": "http://127.0.0.1:9/hook", "types": "broadcast_update"},
        headers=acme.auth,
    )
    assert hook.status_code == 201, hook.text
    room = await env.room(acme)
    ak = room["access_key"]
    made = (await env.http.post(f"/rooms/{ak}/broadcasts", data={"stream_url": URL})).json()
    await env.events.broadcast_state(meeting_of(room), made["id"], "live", None)
    assert (await env.http.delete(f"/rooms/{ak}/broadcasts")).status_code == 200
    async with env.state.db.uow() as uow:
        found = await uow.session.execute(
            select(WebhookDelivery.type, WebhookDelivery.body).order_by(WebhookDelivery.id)
        )
        bodies = [(kind, json.loads(body)) for kind, body in found.all()]
    assert {kind for kind, _ in bodies} == {"broadcast_update"}
    seen = sorted((b["broadcast"]["event"], b["broadcast"]["state"]) for _, b in bodies)
    assert ("streaming.started", "ended") in seen or ("streaming.started", "starting") in seen
    assert {e for e, _ in seen} == {"streaming.started", "streaming.connected", "streaming.ended"}
    for _, body in bodies:
        assert body["type"] == "broadcast_update"
        assert body["broadcast"]["id"] == made["id"]
        assert KEY not in json.dumps(body)


async def test_metrics_count_running_broadcasts_and_reconnects(env: Env, acme: TeamKey) -> None:
    async def figures() -> tuple[float, float]:
        text = (await env.http.get("/metrics")).text
        values = dict(
            line.split(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
        )
        return (
            float(values["vidroom_broadcasts_running"]),
            float(values["vidroom_broadcast_reconnects_total"]),
        )

    assert await figures() == (0.0, 0.0)
    room = await env.room(acme)
    made = (
        await env.http.post(f"/rooms/{room['access_key']}/broadcasts", data={"stream_url": URL})
    ).json()
    for state in ("live", "reconnecting", "reconnecting", "live", "reconnecting"):
        await env.events.broadcast_state(meeting_of(room), made["id"], state, None)
    assert await figures() == (1.0, 3.0)
    await env.events.broadcast_state(meeting_of(room), made["id"], "ended", "empty")
    assert await figures() == (0.0, 3.0)


async def test_the_stream_key_is_never_logged(
    env: Env, acme: TeamKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    room = await env.room(acme)
    ak = room["access_key"]
    made = (await env.http.post(f"/rooms/{ak}/broadcasts", params={"stream_url": URL})).json()
    await env.events.broadcast_state(meeting_of(room), made["id"], "reconnecting", "reset")
    bad = await env.http.post(f"/rooms/{ak}/broadcasts", data={"stream_url": URL + "\x01"})
    assert bad.status_code == 406  # one runs already: refused before the URL is looked at
    assert (await env.http.delete(f"/rooms/{ak}/broadcasts")).status_code == 200
    # what the server logged (the test's own HTTP client logs its URLs: not the server's)
    served = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    )
    assert "rtmp://127.0.0.1:1935/live/***" in served
    access = [r.getMessage() for r in caplog.records if r.name == "vidroom.access"]
    assert any("/broadcasts" in line for line in access)  # the request was logged, keyless
    assert KEY not in served
