"""Voice activation's hysteresis."""

from __future__ import annotations

from vidroom.media.spotlight import Spotlight


def test_a_speaker_takes_the_spotlight_and_keeps_it_for_the_hold() -> None:
    s = Spotlight(hold=2.0)
    present = {"a", "b"}
    assert s.update(["b"], present, 0.0)
    assert s.key == "b"
    assert not s.update(["a"], present, 1.0)
    assert s.key == "b"
    assert not s.update(["a", "b"], present, 5.0)
    assert s.key == "b"
    assert s.update(["a"], present, 5.1)
    assert s.key == "a"
    assert not s.update([], present, 9.0)
    assert s.key == "a"


def test_a_holder_who_leaves_frees_the_spotlight() -> None:
    s = Spotlight()
    s.update(["a"], {"a", "b"}, 0.0)
    assert s.update([], {"b"}, 0.5)
    assert s.key is None
    assert s.update(["b"], {"b"}, 0.6)
    assert s.key == "b"
    assert not s.update(["ghost"], {"b"}, 9.0)
    assert s.key == "b"
