"""Playbacks with the real media server: an MP4 made with PyAV, served from 127.0.0.1, plays
into the composite a Python participant receives; ``playback_update`` and the error event on
``/rt``; every dialect's parameters; bad input, refusals and failed files."""

# ruff: noqa: F811 - the fixtures imported below are parameters of the tests
from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from eyeson.eyeson import EyesonClient

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.playback_files import FileServer, mp4
from tests.api.eyeson.realtime.conftest import Cable
from tests.api.eyeson.sepp.conftest import SeppServer
from tests.api.eyeson.test_layout import join, near, rgb_at, until_frame
from tests.client.conftest import GREEN, RED, _loopback, media_server  # noqa: F401 - fixtures
from vidroom.settings import Settings

MAX_BYTES = 2_000_000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Playback files come from 127.0.0.1 here; a small size limit."""
    return settings.model_copy(
        update={"outbound_allow_private": True, "playback_max_bytes": MAX_BYTES}
    )


@pytest.fixture(scope="module")
def files() -> Iterator[FileServer]:
    server = FileServer()
    server.files = {
        "/green.mp4": (mp4(GREEN, 2.0), "video/mp4"),
        "/short.mp4": (mp4(GREEN, 1.0), "video/mp4"),
        "/long.mp4": (mp4(GREEN, 30.0), "video/mp4"),
        "/notes.txt": (b"these are not moving pictures\n" * 20, "text/plain"),
        "/big.bin": (b"\0" * (MAX_BYTES + 1), "application/octet-stream"),
    }
    with server.running():
        yield server


async def observer(server: SeppServer, key: TeamKey) -> Cable:
    ws = server.base.replace("http://", "ws://") + "/rt?room_id=r1"
    cable = await Cable.open(ws, additional_headers=key.auth)
    assert await cable.frame() == {"type": "welcome"}
    assert (await cable.subscribe())["type"] == "confirm_subscription"
    cable.first = await cable.message("room_update")
    return cable


async def participant_cable(server: SeppServer, access_key: str) -> Cable:
    cable = await Cable.open(
        server.base.replace("http://", "ws://") + f"/rt?access_key={access_key}"
    )
    await cable.joined()
    return cable


def playback_files(server: SeppServer) -> list[str]:
    folder = server.state.settings.media_dir / "playbacks"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_a_playback_plays_is_announced_and_ends(
    media_server: SeppServer, acme: TeamKey, files: FileServer
) -> None:
    alice, room = await join(media_server, acme, "alice", RED)
    ak, http = room["access_key"], media_server.http
    cable = await observer(media_server, acme)
    podium = await observer(media_server, acme)
    mine = await participant_cable(media_server, ak)
    try:
        assert cable.first["content"]["playbacks"] == []
        r = await http.post(
            f"/rooms/{ak}/playbacks", data={"url": files.url("/green.mp4"), "play_id": "clip"}
        )
        assert r.status_code == 201, r.text
        assert r.content == b""
        # its own spot beside alice's tile
        await until_frame(
            alice, lambda f: near(rgb_at(f, 0.25, 0.5), RED) and near(rgb_at(f, 0.75, 0.5), GREEN)
        )
        expected = {
            "url": files.url("/green.mp4"),
            "name": None,
            "play_id": "clip",
            "replacement_id": None,
            "audio": False,
            "loop_count": 0,
        }
        for c in (cable, mine):
            assert (await c.message("playback_update", wait=10))["playing"] == [expected]
        assert (await http.get(f"/rooms/{ak}")).json()["playbacks"] == [expected]
        assert len(playback_files(media_server)) == 1
        # observers see its tile by play_id, beside alice's by user id
        while True:
            entries = (await podium.message("podium_update", wait=10))["podium"]
            if any(e["play_id"] == "clip" for e in entries):
                break
        assert {(e["user_id"], e["play_id"], e["left"]) for e in entries} == {
            (None, "clip", 640),
            ("alice", None, 0),
        }
        # two seconds later it has played out: the list is empty, the file gone
        for c in (cable, mine):
            assert (await c.message("playback_update", wait=10))["playing"] == []
        assert (await http.get(f"/rooms/{ak}")).json()["playbacks"] == []
        assert playback_files(media_server) == []
        await until_frame(alice, lambda f: near(rgb_at(f, 0.5, 0.5), RED))
    finally:
        for c in (cable, podium, mine):
            await c.close()
        await alice.close()


async def test_replacement_loop_and_delete(
    media_server: SeppServer, acme: TeamKey, files: FileServer
) -> None:
    alice, room = await join(media_server, acme, "alice", RED)
    ak, http = room["access_key"], media_server.http
    cable = await observer(media_server, acme)
    try:
        r = await http.post(
            f"/rooms/{ak}/playbacks",
            data={
                "playback[url]": files.url("/short.mp4"),
                "playback[play_id]": "loop",
                "playback[replacement_id]": "alice",
                "playback[loop_count]": "2",
                "playback[name]": "Intro",
            },
        )
        assert r.status_code == 201, r.text
        # it takes alice's tile: the whole picture is green
        await until_frame(
            alice, lambda f: near(rgb_at(f, 0.5, 0.5), GREEN) and near(rgb_at(f, 0.2, 0.2), GREEN)
        )
        update = await cable.message("playback_update", wait=10)
        assert update["playing"][0]["replacement_id"] == "alice"
        assert update["playing"][0]["loop_count"] == 2
        assert update["playing"][0]["name"] == "Intro"
        # a 1 s file played three times: still playing after 1.5 s
        await asyncio.sleep(1.5)
        assert (await http.get(f"/rooms/{ak}")).json()["playbacks"][0]["play_id"] == "loop"
        again = await http.post(
            f"/rooms/{ak}/playbacks", data={"url": files.url("/short.mp4"), "play_id": "loop"}
        )
        assert again.status_code == 409, again.text
        assert again.json()["error"]
        assert (await http.delete(f"/rooms/{ak}/playbacks/loop")).status_code == 200
        assert (await cable.message("playback_update", wait=10))["playing"] == []
        await until_frame(alice, lambda f: near(rgb_at(f, 0.5, 0.5), RED))
        assert playback_files(media_server) == []
        r = await http.delete(f"/rooms/{ak}/playbacks/loop")
        assert r.status_code == 404, r.text
        assert r.json()["error"]
    finally:
        await cable.close()
        await alice.close()


async def test_every_dialect_and_the_pypi_client(
    media_server: SeppServer, acme: TeamKey, files: FileServer
) -> None:
    alice, room = await join(media_server, acme, "alice", RED)
    ak, http = room["access_key"], media_server.http
    cable = await observer(media_server, acme)
    url = files.url("/long.mp4")
    sends: list[tuple[str, dict[str, Any]]] = [
        ("nested-json", {"json": {"playback": {"url": url, "play_id": "a", "audio": True}}}),
        ("flat-json", {"json": {"url": url, "play_id": "b", "loop_count": "-1"}}),
        ("form", {"data": {"playback[url]": url, "playback[play_id]": "c", "audio": "true"}}),
        ("query", {"params": {"playback[url]": url, "playback[play_id]": "d"}}),
    ]
    try:
        for label, how in sends:
            r = await http.post(f"/rooms/{ak}/playbacks", **how)
            assert r.status_code == 201, (label, r.text)
        client = EyesonClient(access_key=ak, base_url=media_server.base)
        await asyncio.to_thread(client.playback, url, "PyPI", "e", None, 0)
        wanted = {"a", "b", "c", "d", "e"}
        async with asyncio.timeout(20):
            while True:
                playing = (await cable.message("playback_update"))["playing"]
                by_id = {p["play_id"]: p for p in playing}
                if set(by_id) == wanted:
                    break
        assert by_id["a"]["audio"] is True
        assert by_id["a"]["url"] == url
        assert by_id["b"]["loop_count"] == -1
        assert by_id["c"]["audio"] is True
        assert by_id["d"]["loop_count"] == 0
        assert by_id["e"]["name"] == "PyPI"
        for play_id in sorted(wanted):
            assert (await http.delete(f"/rooms/{ak}/playbacks/{play_id}")).status_code == 200
        assert (await http.get(f"/rooms/{ak}")).json()["playbacks"] == []
    finally:
        await cable.close()
        await alice.close()


async def test_bad_input_is_refused(
    media_server: SeppServer, acme: TeamKey, files: FileServer
) -> None:
    alice, room = await join(media_server, acme, "alice", RED)
    ak, http = room["access_key"], media_server.http
    url = files.url("/green.mp4")
    fetched = len(files.requests)
    try:
        cases: list[dict[str, Any]] = [
            {"data": {}},
            {"data": {"play_id": "x"}},
            {"data": {"url": "ftp://127.0.0.1/x.mp4"}},
            {"data": {"url": "javascript:alert(1)"}},
            {"data": {"url": "http://127.0.0.1/" + "x" * 2100}},
            {"data": {"url": url, "loop_count": "-2"}},
            {"data": {"url": url, "loop_count": "often"}},
            {"json": {"url": url, "loop_count": 1.5}},
            {"data": {"url": url, "audio": "maybe"}},
            {"data": {"url": url, "play_id": "a b"}},
            {"data": {"url": url, "play_id": "x" * 65}},
            {"data": {"url": url, "name": "n" * 256}},
            {"data": {"url": url, "replacement_id": "nobody"}},
            {"json": {"playback": "not an object"}},
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        ]
        for how in cases:
            r = await http.post(f"/rooms/{ak}/playbacks", **how)
            assert r.status_code == 400, (how, r.text)
            assert r.json()["error"], how
        assert (await http.post("/rooms/nope/playbacks", data={"url": url})).status_code == 404
        assert (await http.delete("/rooms/nope/playbacks/x")).status_code == 404
        r = await http.delete(f"/rooms/{ak}/playbacks/unknown")
        assert r.status_code == 404, r.text
        assert r.json()["error"]
        assert len(files.requests) == fetched  # nothing was fetched
        assert playback_files(media_server) == []
    finally:
        await alice.close()


async def test_refusals_and_failed_files(
    media_server: SeppServer, acme: TeamKey, files: FileServer
) -> None:
    http = media_server.http
    # nobody in the call yet: 406
    waiting = await media_server.room(acme, "carol")
    r = await http.post(
        f"/rooms/{waiting['access_key']}/playbacks", data={"url": files.url("/green.mp4")}
    )
    assert r.status_code == 406, r.text
    assert r.json()["error"]
    alice, room = await join(media_server, acme, "alice", RED)
    ak = room["access_key"]
    cable = await observer(media_server, acme)
    mine = await participant_cable(media_server, ak)
    try:
        # the default outbound rules refuse private addresses
        strict = media_server.state.settings
        media_server.state.settings = strict.model_copy(update={"outbound_allow_private": False})
        r = await http.post(f"/rooms/{ak}/playbacks", data={"url": files.url("/green.mp4")})
        media_server.state.settings = strict
        assert r.status_code == 400, r.text
        assert "non-public" in r.json()["error"]

        # a file being fetched counts: 409 for its play id; DELETE stops the fetch
        slow = files.url("/slow/long.mp4")
        assert (
            await http.post(f"/rooms/{ak}/playbacks", data={"url": slow, "play_id": "slow"})
        ).status_code == 201
        r = await http.post(f"/rooms/{ak}/playbacks", data={"url": slow, "play_id": "slow"})
        assert r.status_code == 409, r.text
        await asyncio.sleep(0.3)
        assert len(playback_files(media_server)) == 1  # partly written
        assert (await http.delete(f"/rooms/{ak}/playbacks/slow")).status_code == 200
        assert (await cable.message("playback_update", wait=10))["playing"] == []
        assert playback_files(media_server) == []
        assert (await http.delete(f"/rooms/{ak}/playbacks/slow")).status_code == 404

        # files that cannot be played: an error event each, and an unchanged (empty) list
        for path, words in (
            ("/big.bin", f"larger than {MAX_BYTES}"),
            ("/missing.mp4", "404"),
            ("/notes.txt", "cannot be played"),
        ):
            play_id = path.strip("/").replace(".", "-")
            r = await http.post(
                f"/rooms/{ak}/playbacks", json={"url": files.url(path), "play_id": play_id}
            )
            assert r.status_code == 201, r.text
            for c in (cable, mine):
                error = await c.message("error", wait=15)
                assert error["code"] == "playback_failed"
                assert error["play_id"] == play_id
                assert words in error["message"], error
            assert (await http.get(f"/rooms/{ak}")).json()["playbacks"] == []
            assert playback_files(media_server) == []
    finally:
        for c in (cable, mine):
            await c.close()
        await alice.close()


def test_the_error_event_shape() -> None:
    """What ``playback_update`` and the error event look like on the wire."""
    from vidroom.api.eyeson.realtime.relay import playback_update
    from vidroom.events import catalogue as ev

    event = ev.PlaybackChanged(
        team_id="t", meeting_id="m", playing=[], failed="p1", error="the file is too big"
    )
    assert playback_update(event) == [
        {"type": "playback_update", "playing": []},
        {
            "type": "error",
            "code": "playback_failed",
            "play_id": "p1",
            "message": "the file is too big",
        },
    ]
    assert json.loads(ev.load(event.model_dump(mode="json")).model_dump_json())["failed"] == "p1"


async def test_a_killed_media_worker_ends_the_playbacks(
    media_server: SeppServer, acme: TeamKey, files: FileServer
) -> None:
    alice, room = await join(media_server, acme, "alice", RED)
    ak, http = room["access_key"], media_server.http
    cable = await observer(media_server, acme)
    try:
        r = await http.post(
            f"/rooms/{ak}/playbacks", data={"url": files.url("/long.mp4"), "play_id": "long"}
        )
        assert r.status_code == 201, r.text
        assert (await cable.message("playback_update", wait=10))["playing"][0]["play_id"] == "long"
        (pid,) = media_server.media.worker_pids()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        assert (await cable.message("playback_update", wait=20))["playing"] == []
        assert (await http.get(f"/rooms/{ak}")).json()["playbacks"] == []
        assert playback_files(media_server) == []
    finally:
        await cable.close()
        await alice.close()
