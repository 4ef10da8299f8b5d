"""Slides: a still picture in the presenter's big spot, kept across a look change, replaced,
and dropped again (``show_slide``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from tests.media.conftest import Client, close_to, until
from tests.media.test_call import GREEN, RED, centres, sees_everyone
from vidroom.media.contract import LayerImage, MediaError
from vidroom.media.slides import slide_frame
from vidroom.media.supervisor import MediaSupervisor

MakeClient = Callable[[str, tuple[int, int, int], float], Client]
YELLOW = (230, 220, 30)
PURPLE = (140, 40, 200)


def solid(rgb: tuple[int, int, int], size: tuple[int, int] = (640, 480)) -> LayerImage:
    return LayerImage(0, size[0], size[1], bytes([*rgb, 255]) * (size[0] * size[1]))


def test_slide_frame_is_yuv_at_its_own_even_size() -> None:
    frame = slide_frame(solid(YELLOW, (101, 51)))
    assert (frame.width, frame.height, frame.format.name) == (100, 50, "yuv420p")
    rgb = frame.to_ndarray(format="rgb24")
    assert close_to(tuple(int(c) for c in rgb[25, 50]), YELLOW, 12)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2x2"):
        slide_frame(solid(YELLOW, (1, 1)))


async def test_slide_takes_the_big_spot_and_survives_a_look_change(
    supervisor: MediaSupervisor, clients: MakeClient
) -> None:
    a, b = clients("a", RED, 500), clients("b", GREEN, 900)
    await a.join(supervisor, "p")
    await b.join(supervisor, "p")
    assert await until(lambda: all(sees_everyone(c, supervisor, "p", [a, b]) for c in (a, b)), 5)

    await supervisor.show_slide("p", "a", solid(YELLOW))
    first = supervisor.members("p")[0]
    assert (first.participant_id, first.presenting) == ("a", True)
    big = centres(supervisor, "p")
    assert await until(lambda: close_to(b.color_at(*big["c-a"]), YELLOW), 5)
    assert await until(lambda: close_to(b.color_at(*big["c-b"]), GREEN), 3)

    # a new look (background colour): a new compositor, the same slide
    room = supervisor.rooms["p"]
    await supervisor.open_room(dataclasses.replace(room.spec, background_color="#0000ff"))
    assert await until(lambda: room.spec.background_color == "#0000ff", 3)
    assert await until(lambda: close_to(b.color_at(*big["c-a"]), YELLOW), 3)

    await supervisor.show_slide("p", "a", solid(PURPLE, (1280, 960)))  # the next slide
    assert await until(lambda: close_to(b.color_at(*big["c-a"]), PURPLE), 3)

    await supervisor.show_slide("p", "a", None)  # back to a's own video, still presenting
    assert await until(lambda: close_to(b.color_at(*big["c-a"]), RED), 3)
    assert supervisor.members("p")[0].presenting

    await supervisor.show_slide("p", "a", solid(YELLOW))
    await supervisor.set_presenter("p", "b")  # someone else presents: a's slide is gone
    await supervisor.set_presenter("p", None)
    grid = centres(supervisor, "p")
    assert await until(lambda: close_to(b.color_at(*grid["c-a"]), RED), 3)

    with pytest.raises(MediaError) as missing:
        await supervisor.show_slide("p", "nobody", solid(YELLOW))
    assert missing.value.code == 404
    with pytest.raises(MediaError) as tiny:
        await supervisor.show_slide("p", "a", solid(YELLOW, (1, 1)))
    assert tiny.value.code == 400
