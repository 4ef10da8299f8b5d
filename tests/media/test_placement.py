"""Placement with playbacks (pure)."""

from __future__ import annotations

from vidroom.media.contract import RoomSpec
from vidroom.media.layout import Spot
from vidroom.media.placement import place, place_with_playbacks


def keys(placed: list[tuple[Spot, str]]) -> list[str]:
    return [key for _, key in placed]


def test_a_replacement_takes_the_spot_and_the_rest_follow_the_participants() -> None:
    spec = RoomSpec("m")
    order = ["a", "b", "c"]
    placed = place_with_playbacks(spec, order, None, [("p1", "b"), ("p2", None)])
    assert keys(placed) == ["a", "p1", "c", "p2"]
    assert [s for s, _ in placed] == [s for s, _ in place(spec, [*order, "p2"], None)]


def test_an_absent_or_taken_replacement_gets_a_spot_of_its_own() -> None:
    placed = place_with_playbacks(
        RoomSpec("m"), ["a"], None, [("p1", "a"), ("p2", "a"), ("p3", "z")]
    )
    assert keys(placed) == ["p1", "p2", "p3"]


def test_layout_users_may_name_a_play_id_or_a_replaced_participant() -> None:
    spec = RoomSpec("m", layout="custom", layout_name="four", layout_users=["p2", "", "b"])
    placed = place_with_playbacks(spec, ["a", "b"], None, [("p1", "b"), ("p2", None)])
    assert keys(placed) == ["p2", "p1"]  # "custom": a is not listed, so not shown


def test_the_presenter_layout_keeps_the_presenter_first() -> None:
    placed = place_with_playbacks(RoomSpec("m"), ["a", "b"], "a", [("p1", None)])
    assert keys(placed) == ["a", "b", "p1"]
    assert placed[0][0].rect.width > placed[1][0].rect.width
