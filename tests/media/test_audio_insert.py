"""The audio insert: who speaks unseen gets a name card, by mode, where asked; checked on
the composite a participant receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from tests.media.conftest import Client, close_to, until
from vidroom.media.audio_insert import origins, speakers
from vidroom.media.contract import RoomSpec
from vidroom.media.supervisor import MediaSupervisor

RED = (220, 30, 30)
BLUE = (30, 40, 220)


def test_who_gets_a_card() -> None:
    speaking = ["a", "b", "c", "b"]
    assert speakers("enabled", speaking, placed={"a"}, pictured={"b"}) == ["b", "c"]
    assert speakers("audio_only", speaking, placed={"a"}, pictured={"b"}) == ["c"]
    assert speakers("disabled", speaking, placed=set(), pictured=set()) == []
    assert speakers("enabled", [], placed=set(), pictured=set()) == []


def test_cards_stack_inside_the_canvas() -> None:
    canvas = (1280, 720)
    assert origins([(100, 30), (80, 30)], (40, 41), canvas) == [(40, 40), (40, 76)]
    # pushed back inside when asked too far right or down
    assert origins([(100, 30)], (1250, 719), canvas) == [(1180, 690)]
    # no position: upwards from the bottom-right corner
    corner = origins([(100, 30), (80, 30)], None, canvas)
    assert corner == [(1164, 674), (1184, 638)]
    for (x, y), (w, h) in zip(corner, [(100, 30), (80, 30)], strict=True):
        assert x % 2 == y % 2 == 0
        assert x + w <= 1280
        assert y + h <= 720


async def test_an_unseen_speaker_gets_a_card_by_mode(
    supervisor: MediaSupervisor, clients: Callable[..., Client]
) -> None:
    spec = RoomSpec(
        "ai",
        layout="custom",
        layout_name="one",
        layout_users=["alice"],
        audio_insert="enabled",
        audio_insert_position=[40, 40],
    )
    await supervisor.open_room(spec)
    alice = clients("alice", RED, 500, amplitude=0.0)  # silent, in the one spot
    bob = clients("bob", BLUE, 900)  # speaks, has no spot
    await alice.join(supervisor, "ai")
    await bob.join(supervisor, "ai")

    def card() -> bool:
        return alice.latest is not None and not close_to(alice.color_at(52, 54), RED)

    def no_card() -> bool:
        return alice.latest is not None and close_to(alice.color_at(52, 54), RED)

    assert await until(lambda: card() and close_to(alice.color_at(640, 600), RED), 15)
    # audio_only: bob sends video, so no card
    await supervisor.open_room(replace(spec, audio_insert="audio_only"))
    assert await until(no_card, 10)
    # ... until his camera is off
    await supervisor.set_video_muted("ai", "bob", True)
    assert await until(card, 10)
    await supervisor.open_room(replace(spec, audio_insert="disabled"))
    assert await until(no_card, 10)
