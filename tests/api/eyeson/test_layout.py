"""``POST /rooms/<ak>/layout``: named layouts, maps and spot order on the pixels a Python
participant receives; options_update; bad input; the PyPI client's ``change_layout``."""

# ruff: noqa: F811 - the fixtures imported below are parameters of the tests
from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest
from eyeson.eyeson import EyesonClient

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.realtime.conftest import Cable
from tests.api.eyeson.sepp.conftest import SeppServer
from tests.client.conftest import BLUE, GREEN, RED, _loopback, media_server  # noqa: F401 - fixtures
from vidroom.client import Participant
from vidroom.media.layout import named
from vidroom.media.testing import ColorVideoTrack, ToneAudioTrack

BACKGROUND = (0x12, 0x12, 0x12)


def rgb_at(frame: Any, fx: float, fy: float) -> tuple[int, int, int]:
    """The mean colour around a point given in fractions of the picture."""
    picture = frame.to_ndarray(format="rgb24")
    h, w = picture.shape[:2]
    x, y = int(fx * w), int(fy * h)
    patch = picture[max(0, y - 3) : y + 3, max(0, x - 3) : x + 3].reshape(-1, 3).mean(0)
    return (int(patch[0]), int(patch[1]), int(patch[2]))


def near(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


async def join(server: SeppServer, key: TeamKey, user: str, rgb: tuple[int, int, int]) -> Any:
    room = await server.room(key, user)
    p = await Participant.join(
        server.base,
        access_key=room["access_key"],
        name=user,
        video=ColorVideoTrack(rgb, size=(320, 240)),
        audio=ToneAudioTrack(440),
        ice_servers=[],
    )
    return p, room


async def until_frame(p: Participant, check: Any, seconds: float = 25.0) -> Any:
    """The first received composite frame for which ``check(frame)`` holds."""
    last = None
    try:
        async with asyncio.timeout(seconds):
            while True:
                last = await p.next_video_frame(within=seconds)
                if check(last):
                    return last
    except TimeoutError:
        pytest.fail(f"no matching frame; last centre colours: {last and rgb_at(last, 0.5, 0.5)}")


def centre(cell: Any, size: tuple[int, int]) -> tuple[float, float]:
    return ((cell.x + cell.width / 2) / size[0], (cell.y + cell.height / 2) / size[1])


async def test_named_layout_with_users_in_spot_order(
    media_server: SeppServer, acme: TeamKey
) -> None:
    alice, room = await join(media_server, acme, "alice", RED)
    bob, _ = await join(media_server, acme, "bob", GREEN)
    carol, _ = await join(media_server, acme, "carol", BLUE)
    size = (1280, 960)
    spots = [centre(c, size) for c in named("present-lower-3", size)]
    ak = room["access_key"]
    try:
        # custom: bob big, spot 1 free, alice in spot 2, carol (not listed) not shown
        r = await media_server.http.post(
            f"/rooms/{ak}/layout",
            data={"layout": "custom", "name": "present-lower-3", "users[]": ["bob", "", "alice"]},
        )
        assert r.status_code == 200, r.text

        def custom(f: Any) -> bool:
            return (
                near(rgb_at(f, *spots[0]), GREEN)
                and near(rgb_at(f, *spots[1]), BACKGROUND)
                and near(rgb_at(f, *spots[2]), RED)
                and near(rgb_at(f, *spots[3]), BACKGROUND)
            )

        frame = await until_frame(alice, custom)
        picture = frame.to_ndarray(format="rgb24").astype(int)
        assert not (np.abs(picture - np.array(BLUE)).max(axis=2) < 40).any()  # carol is off
        # cover: bob's 4:3 camera fills the whole 16:9 big spot (no bands at its sides)
        assert near(rgb_at(frame, 0.02, 0.3), GREEN)
        assert near(rgb_at(frame, 0.98, 0.3), GREEN)
        await alice.wait_for(lambda p: p.source is not None and len(p.source["dims"]) == 2)

        # auto: the free spots are filled with whoever is not placed (carol, then nobody)
        r = await media_server.http.post(f"/rooms/{ak}/layout", data={"layout": "auto"})
        assert r.status_code == 200, r.text
        await until_frame(
            alice,
            lambda f: (
                near(rgb_at(f, *spots[0]), GREEN)
                and near(rgb_at(f, *spots[1]), BLUE)
                and near(rgb_at(f, *spots[2]), RED)
            ),
        )
        await alice.wait_for(lambda p: p.source is not None and len(p.source["dims"]) == 3)

        # a custom map: one box on the right half, carol in it, "contain" keeps her 4:3
        boxes = [[640, 0, 640, 960, "contain"]]
        r = await media_server.http.post(
            f"/rooms/{ak}/layout",
            data={"layout": "custom", "name": "mine", "map": json.dumps(boxes), "users[]": "carol"},
        )
        assert r.status_code == 200, r.text
        await until_frame(
            alice,
            lambda f: (
                near(rgb_at(f, 0.75, 0.5), BLUE)
                and near(rgb_at(f, 0.25, 0.5), BACKGROUND)
                and near(rgb_at(f, 0.75, 0.05), BACKGROUND)  # letterboxed: 4:3 in a tall box
            ),
        )
        got = (await media_server.http.get(f"/rooms/{ak}")).json()["options"]
        assert got["layout"] == "custom"
        assert got["layout_name"] == "mine"
        assert got["layout_map"] == [[640, 0, 640, 960, "contain"]]
        assert got["layout_users"] == ["carol"]
    finally:
        for p in (alice, bob, carol):
            await p.close()


async def test_pypi_client_change_layout_and_bad_input(
    media_server: SeppServer, acme: TeamKey
) -> None:
    room = await media_server.room(acme, "alice")
    ak = room["access_key"]
    client = EyesonClient(access_key=ak, base_url=media_server.base)
    # as the client sends it: query string of a POST, users[] repeated, map "null"
    await asyncio.to_thread(client.change_layout, "custom", "four", ["alice", "bob"])
    got = (await media_server.http.get(f"/rooms/{ak}")).json()["options"]
    assert (got["layout"], got["layout_name"], got["layout_users"]) == (
        "custom",
        "four",
        ["alice", "bob"],
    )
    assert got["layout_map"] is None
    await asyncio.to_thread(client.change_layout, "auto", "six", [], [[0, 0, 640, 480, "cover"]])
    got = (await media_server.http.get(f"/rooms/{ak}")).json()["options"]
    assert got["layout_map"] == [[0, 0, 640, 480, "cover"]]
    assert got["layout"] == "auto"

    bad: list[dict[str, Any]] = [
        {"layout": "sideways"},
        {"name": "twelve"},
        {"map": "[[0, 0, 640"},
        {"map": json.dumps([[0, 0, 10, 10]] * 11)},
        {"map": json.dumps([[0, 0, 5000, 10]])},
        {"map": json.dumps([[0, 0, 100, 100, "stretch"]])},
        {"map": json.dumps([[0, 0, "a", 100]])},
        {"map": json.dumps([[0, 0, -5, 100]])},
        {"map": json.dumps({"x": 1})},
        {"users[]": ["u"] * 51},
        {"users[]": "x" * 500},
        {"voice_activation": "maybe"},
        {"audio_insert": "loud"},
    ]
    for data in bad:
        r = await media_server.http.post(f"/rooms/{ak}/layout", data=data)
        assert r.status_code == 400, (data, r.text)
        assert "error" in r.json()
    r = await media_server.http.post("/rooms/not-a-key/layout", data={"layout": "auto"})
    assert r.status_code == 404
    r = await media_server.http.post(
        f"/rooms/{ak}/layout",
        json={"layout": "custom", "users": ["alice"], "voice_activation": True},
    )
    assert r.status_code == 200, r.text
    got = (await media_server.http.get(f"/rooms/{ak}")).json()["options"]
    assert got["voice_activation"] is True
    assert got["layout_users"] == ["alice"]


async def test_layout_unavailable_is_405(media_server: SeppServer, acme: TeamKey) -> None:
    room = await media_server.room(acme, "alice", "r2", **{"options[layout_available]": "false"})
    r = await media_server.http.post(f"/rooms/{room['access_key']}/layout", data={"name": "one"})
    assert r.status_code == 405, r.text
    assert "error" in r.json()


async def test_observers_get_podium_update(media_server: SeppServer, acme: TeamKey) -> None:
    alice, room = await join(media_server, acme, "alice", RED)
    bob, _ = await join(media_server, acme, "bob", GREEN)
    ws = media_server.base.replace("http://", "ws://") + "/rt?room_id=r1"
    cable = await Cable.open(ws, additional_headers=acme.auth)
    try:
        assert await cable.frame() == {"type": "welcome"}
        assert (await cable.subscribe())["type"] == "confirm_subscription"
        r = await media_server.http.post(
            f"/rooms/{room['access_key']}/layout",
            data={"layout": "custom", "name": "present-lower-3", "users[]": ["bob", "alice"]},
        )
        assert r.status_code == 200, r.text
        async with asyncio.timeout(15):
            while True:
                update = await cable.message("podium_update", wait=15)
                big = next((e for e in update["podium"] if e["width"] == 1280), None)
                if big is not None:
                    break
        assert big["user_id"] == "bob"
        assert (big["left"], big["top"], big["height"]) == (0, 0, 720)
        small = next(e for e in update["podium"] if e["user_id"] == "alice")
        assert (small["left"], small["top"], small["width"]) == (0, 720, 426)
    finally:
        await cable.close()
        for p in (alice, bob):
            await p.close()
