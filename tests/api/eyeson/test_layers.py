"""Layers on the composite a Python participant receives: foreground over the tiles,
background only where no tile is, the text card inside its box, delete restores; bad images
and URLs; the PyPI client's overlay calls as it sends them."""

# ruff: noqa: F811 - the fixtures imported below are parameters of the tests
from __future__ import annotations

import asyncio
import gc
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eyeson.eyeson import EyesonClient
from PIL import Image

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.sepp.conftest import SeppServer
from tests.api.eyeson.test_layout import BACKGROUND, join, near, rgb_at, until_frame
from tests.client.conftest import BLUE, GREEN, RED, _loopback, media_server  # noqa: F401 - fixtures
from vidroom.layers.text_card import text_card_box

WHITE = (235, 235, 235)


def png(size: tuple[int, int], rgba: tuple[int, int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, rgba).save(out, "PNG")
    return out.getvalue()


def box_mean(frame: Any, box: tuple[int, int, int, int], size: tuple[int, int]) -> float:
    picture = frame.to_ndarray(format="rgb24").astype(float)
    h, w = picture.shape[:2]
    x, y, bw, bh = box
    sx, sy = w / size[0], h / size[1]
    inner = picture[
        int((y + 10) * sy) : int((y + bh - 10) * sy), int((x + 10) * sx) : int((x + bw - 10) * sx)
    ]
    return float(inner.mean())


async def test_layers_change_exactly_their_pixels(media_server: SeppServer, acme: TeamKey) -> None:
    alice, room = await join(media_server, acme, "alice", RED)
    ak = room["access_key"]
    http = media_server.http
    try:
        # alice in the left half; the right half is free (background)
        r = await http.post(
            f"/rooms/{ak}/layout",
            data={
                "layout": "custom",
                "name": "two",
                "users[]": ["alice", ""],
                "show_names": "false",
            },
        )
        assert r.status_code == 200, r.text
        await until_frame(
            alice,
            lambda f: near(rgb_at(f, 0.25, 0.5), RED) and near(rgb_at(f, 0.75, 0.5), BACKGROUND),
        )

        # foreground: an opaque white 320x240 block at the top-left corner, over the tile
        r = await http.post(
            f"/rooms/{ak}/layers", files={"file": ("blob", png((320, 240), (255, 255, 255, 255)))}
        )
        assert r.status_code == 201, r.text
        await until_frame(
            alice,
            lambda f: (
                near(rgb_at(f, 0.1, 0.1), WHITE)
                and near(rgb_at(f, 0.25, 0.5), RED)
                and near(rgb_at(f, 0.75, 0.5), BACKGROUND)
            ),
        )
        # background: full-canvas green, seen only where no tile is
        r = await http.post(
            f"/rooms/{ak}/layers",
            data={"z-index": "-1"},
            files={"file": ("layer-img.png", png((1280, 960), (20, 200, 40, 255)))},
        )
        assert r.status_code == 201, r.text
        await until_frame(
            alice,
            lambda f: (
                near(rgb_at(f, 0.75, 0.5), GREEN)
                and near(rgb_at(f, 0.25, 0.5), RED)
                and near(rgb_at(f, 0.1, 0.1), WHITE)
            ),
        )
        # deleting restores both
        assert (await http.delete(f"/rooms/{ak}/layers/1")).status_code == 200
        assert (await http.delete(f"/rooms/{ak}/layers/-1")).status_code == 200
        await until_frame(
            alice,
            lambda f: near(rgb_at(f, 0.1, 0.1), RED) and near(rgb_at(f, 0.75, 0.5), BACKGROUND),
        )
        # the text card darkens its box on the red tile, nothing outside it
        size = (1280, 960)
        box = text_card_box(size)
        r = await http.post(
            f"/rooms/{ak}/layers", data={"insert[title]": "Hello", "insert[content]": "World " * 40}
        )
        assert r.status_code == 201, r.text
        frame = await until_frame(alice, lambda f: box_mean(f, box, size) < 60)
        assert near(rgb_at(frame, 0.25, 0.2), RED)  # above the card
        assert near(rgb_at(frame, 0.75, 0.5), BACKGROUND)
        picture = frame.to_ndarray(format="rgb24").astype(int)
        bright = np.argwhere(picture.min(axis=2) > 200)  # the white title/content letters
        assert bright.size
        x, y, w, h = box
        sy, sx = picture.shape[0] / size[1], picture.shape[1] / size[0]
        assert bright[:, 0].min() >= (y - 4) * sy
        assert bright[:, 0].max() <= (y + h + 4) * sy
        assert bright[:, 1].min() >= (x - 4) * sx
        assert bright[:, 1].max() <= (x + w + 4) * sx
    finally:
        await alice.close()


async def test_bad_layers_are_refused(media_server: SeppServer, acme: TeamKey) -> None:
    alice, room = await join(media_server, acme, "alice", BLUE)
    ak = room["access_key"]
    http = media_server.http
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        b' width="10" height="10"><image xlink:href="http://example.com/x.png"'
        b' width="10" height="10"/></svg>'
    )
    try:
        cases: list[tuple[dict[str, Any], dict[str, Any] | None]] = [
            ({}, {"file": ("big.png", png((1281, 100), (1, 2, 3, 255)))}),  # wider than the canvas
            ({}, {"file": ("a.gif", gif.getvalue())}),
            ({}, {"file": ("a.png", png((50, 50), (1, 2, 3, 255))[:60])}),  # truncated
            ({}, {"file": ("a.svg", svg)}),
            ({}, {"file": ("a.txt", b"hello world")}),
            ({"url": "http://127.0.0.1:9/x.png"}, None),  # a private address
            ({"url": "ftp://example.com/x.png"}, None),
            ({"z-index": "5"}, {"file": ("a.png", png((10, 10), (1, 2, 3, 255)))}),
            ({}, None),  # nothing to show
            ({"insert[title]": "x" * 5000}, None),
        ]
        for data, files in cases:
            r = await http.post(f"/rooms/{ak}/layers", data=data, files=files)
            assert r.status_code == 400, (data, r.text)
            assert r.json()["error"]
        assert (await http.delete(f"/rooms/{ak}/layers/7")).status_code == 400
        assert (await http.post("/rooms/nope/layers", data={"url": "x"})).status_code == 404
    finally:
        await alice.close()


# local_image_overlay opens the file and never closes it (the client's own leak)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_pypi_client_overlays(
    media_server: SeppServer, acme: TeamKey, tmp_path: Path
) -> None:
    alice, room = await join(media_server, acme, "alice", RED)
    client = EyesonClient(access_key=room["access_key"], base_url=media_server.base)
    image = tmp_path / "overlay.png"
    image.write_bytes(png((640, 480), (255, 255, 255, 255)))
    try:
        await asyncio.to_thread(client.local_image_overlay, str(image), 1)
        await until_frame(
            alice, lambda f: near(rgb_at(f, 0.2, 0.2), WHITE) and near(rgb_at(f, 0.8, 0.8), RED)
        )
        await asyncio.to_thread(client.delete_layers, 1)
        await until_frame(alice, lambda f: near(rgb_at(f, 0.2, 0.2), RED))
        with image.open("rb") as handle:
            await asyncio.to_thread(client.bytes_image_overlay, handle, 1)
        await until_frame(alice, lambda f: near(rgb_at(f, 0.2, 0.2), WHITE))
        await asyncio.to_thread(client.delete_layers, 1)
        await asyncio.to_thread(client.text_overlay, "Breaking", "News")
        size = (1280, 960)
        await until_frame(alice, lambda f: box_mean(f, text_card_box(size), size) < 60)
        # a private URL is refused: the composite stays as it is
        answer = await asyncio.to_thread(client.image_overlay, "http://127.0.0.1:9/x.png", 1)
        assert "error" in answer
    finally:
        await alice.close()
        gc.collect()  # the client's unclosed file is reported here, not in a later test
