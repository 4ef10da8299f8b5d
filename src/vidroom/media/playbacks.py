"""A room's playbacks (:mod:`vidroom.media.playback`): started, stopped, ended, and how they
appear in the composite.

A playback with audio gets a mixer input of its own (key ``play:<play_id>``), fed from its
thread through the event loop (``call_soon_threadsafe``: the mixer is the loop's). A playback
with a picture is placed (``placement.place_with_playbacks``) and drawn under the key
``play:<play_id>``; its tile's ``client_id`` is its play_id and its label its ``name``. An
audio-only file (an MP3) gets no tile, as on the hosted service (which shows nothing for
one), even with a ``replacement_id``: that participant's tile stays as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from vidroom.media import layout, placement
from vidroom.media.compositor import TileSource
from vidroom.media.contract import MediaError, PlaybackSpec, Tile
from vidroom.media.mixer import Mixer
from vidroom.media.playback import Playback, open_media

KEY = "play:"


def _soon(loop: asyncio.AbstractEventLoop, call: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody listens any more
        loop.call_soon_threadsafe(call, *args)


class RoomPlaybacks:
    """The playbacks of one room. ``on_ended(play_id, error)`` runs on the event loop when
    one ended on its own (it is already removed)."""

    def __init__(self, mixer: Mixer, on_ended: Callable[[str, str | None], None]) -> None:
        self.mixer = mixer
        self.on_ended = on_ended
        self.playing: dict[str, Playback] = {}
        self._starting: set[str] = set()
        self._closed = False

    async def start(self, spec: PlaybackSpec) -> Playback:
        """Open the file (in a thread) and start it. MediaError 400 (not playable), 409."""
        play_id = spec.play_id
        if not play_id:
            raise MediaError(400, "a playback needs a play_id")
        if spec.loop_count < -1:
            raise MediaError(400, "loop_count must be -1 (forever) or more")
        if play_id in self.playing or play_id in self._starting:
            raise MediaError(409, "a playback with this play_id is playing already")
        self._starting.add(play_id)
        try:
            container = await asyncio.to_thread(open_media, spec.path, spec.audio)
        finally:
            self._starting.discard(play_id)
        if self._closed:
            container.close()
            raise MediaError(404, "the meeting's media room is closed")
        loop = asyncio.get_running_loop()
        on_audio = None
        if spec.audio and container.streams.audio:
            source = self.mixer.add(KEY + play_id)
            on_audio = lambda frame: _soon(loop, source.push, frame)  # noqa: E731
        playback = Playback(
            spec,
            container,
            on_audio=on_audio,
            on_end=lambda error: _soon(loop, self._ended, playback, error),
        )
        self.playing[play_id] = playback
        playback.start()
        return playback

    async def stop(self, play_id: str) -> Playback:
        """Stop one (its thread ended when this returns). MediaError 404."""
        playback = self.playing.pop(play_id, None)
        if playback is None:
            raise MediaError(404, "no playback with this play_id is playing")
        self.mixer.remove(KEY + play_id)
        await asyncio.to_thread(playback.stop)
        return playback

    async def close(self) -> None:
        """Stop them all (reports nothing)."""
        self._closed = True
        playing = list(self.playing.values())
        self.playing.clear()
        for playback in playing:
            self.mixer.remove(KEY + playback.play_id)
        await asyncio.gather(*(asyncio.to_thread(p.stop) for p in playing))

    def _ended(self, playback: Playback, error: str | None) -> None:
        if self.playing.get(playback.play_id) is not playback:
            return  # stopped meanwhile
        del self.playing[playback.play_id]
        self.mixer.remove(KEY + playback.play_id)
        self.on_ended(playback.play_id, error)

    # -- the composite -------------------------------------------------------------------

    def visible(self) -> list[tuple[str, str | None]]:
        """(play_id, replacement_id) of those with a picture, in start order."""
        return [(k, p.spec.replacement_id) for k, p in self.playing.items() if p.has_video]


def source_of(spot: layout.Spot, playback: Playback) -> TileSource:
    """How the compositor draws it: its latest frame, its name, covering unless the spot
    says otherwise."""
    fit = placement.fit_of(spot, playback.play_id, None)
    return TileSource(KEY + playback.play_id, playback.name, playback.picture(), fit)


def tile_of(spot: layout.Spot, playback: Playback) -> Tile:
    rect = spot.rect
    return Tile(playback.play_id, rect.x, rect.y, rect.width, rect.height)
