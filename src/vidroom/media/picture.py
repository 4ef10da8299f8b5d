"""A room's composite picture: the compositor with its layers, and the encoders of every
codec in use (``renditions.py``). Compose + encode run in one worker thread per room (a
single-thread executor, so frames are encoded in order and the event loop never blocks on
them), which also packetizes each frame once per codec; the recording/broadcast egress gets
the same frame and H.264 packets. A new look (size, names, background, fps) is applied
between two frames."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from vidroom.media import layout
from vidroom.media.compositor import Compositor, TileSource
from vidroom.media.contract import LayerImage, RoomSpec
from vidroom.media.egress import RoomEgress
from vidroom.media.overlay import Overlay
from vidroom.media.pacing import FrameMeter
from vidroom.media.packetizer import EncodedFrame
from vidroom.media.renditions import Renditions

T = TypeVar("T")


def overlay_of(image: LayerImage, size: tuple[int, int]) -> Overlay:
    return Overlay(image.rgba, image.width, image.height, size)


class RoomPicture:
    def __init__(self, spec: RoomSpec, egress: RoomEgress) -> None:
        self.spec = spec
        self.egress = egress
        self.renditions = Renditions(spec.size, spec.fps)
        self.compositor = Compositor(spec.size, spec.background_color, spec.show_names)
        self.layers: dict[int, LayerImage] = {}  # by z-index
        self.meter = FrameMeter()
        self.executor = ThreadPoolExecutor(1, thread_name_prefix=f"media-{spec.meeting_id}")
        self._inflight: Future[dict[str, list[EncodedFrame]]] | None = None
        self._last_pts = -1

    def restyle(self, spec: RoomSpec) -> None:
        """A new look from the next frame on (between frames: the loop's own turn)."""
        self.renditions.resize(spec.size, spec.fps)
        self.compositor = Compositor(spec.size, spec.background_color, spec.show_names)
        for z, image in self.layers.items():
            self.compositor.set_layer(z, overlay_of(image, spec.size))
        self.spec = spec

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """``call`` in the render thread, in order with the frames."""
        return await asyncio.wrap_future(self.executor.submit(call, *args))

    async def set_layer(self, z: int, image: LayerImage | None) -> None:
        """Converted once (in the render thread) and kept across looks."""
        z = 1 if z > 0 else -1
        if image is None:
            self.layers.pop(z, None)
        else:
            self.layers[z] = image
        compositor, size = self.compositor, self.spec.size
        await self.run(lambda: compositor.set_layer(z, overlay_of(image, size) if image else None))

    async def frame(
        self,
        t: float,
        cells: list[layout.Rect],
        sources: list[TileSource],
        inserts: list[str],
        codecs: set[str],
    ) -> dict[str, list[EncodedFrame]]:
        """One frame at ``t`` seconds: composed, and encoded once per codec in ``codecs``."""
        pts = max(self._last_pts + 1, int(t * 90000))
        self._last_pts = pts
        self._inflight = self.executor.submit(self._render, cells, sources, pts, codecs, inserts)
        return await asyncio.wrap_future(self._inflight)

    def _render(
        self,
        cells: list[layout.Rect],
        sources: list[TileSource],
        pts: int,
        codecs: set[str],
        inserts: list[str],
    ) -> dict[str, list[EncodedFrame]]:
        """Render thread: compose one frame and encode it once per codec in use."""
        started = time.perf_counter()
        at = self.spec.audio_insert_position
        frame = self.compositor.compose(cells, sources, inserts, (at[0], at[1]) if at else None)
        composed = time.perf_counter()
        h264: list[Any] = []
        packets = self.renditions.encode(frame, pts, codecs, h264)
        self.meter.frame(composed - started, time.perf_counter() - composed)
        self.egress.video(frame, h264)
        return packets

    async def drain(self) -> None:
        """Wait for a frame being encoded."""
        if self._inflight is not None and not self._inflight.done():
            await asyncio.wait([asyncio.wrap_future(self._inflight)])

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.renditions.close()
