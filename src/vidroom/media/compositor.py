"""The composite picture: yuv420p end to end.

Each tick takes the latest decoded frame of every tile, scales it with swscale straight into
yuv420p (one ``VideoReformatter`` per tile, so its scaler context is set up once, not for
every new frame: that set-up cost ten times the scaling itself), copies the planes into a
numpy canvas filled with the background colour, and blends cached name labels (luma + alpha
bitmaps rendered once with Pillow's default font) over their bounding boxes only. Runs in the
room's worker thread.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from av import VideoFrame
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageDraw, ImageFont

from vidroom.media import audio_insert
from vidroom.media.layout import Rect, cover, fit
from vidroom.media.overlay import Overlay

U8 = npt.NDArray[np.uint8]
U16 = npt.NDArray[np.uint16]

DEFAULT_BACKGROUND = "#121212"
INSERT_FONT = 22  # the audio insert's name cards
DARK_TILE = (40, 128, 128)  # YUV of the tile shown for a participant without a picture
_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


def parse_color(value: str) -> tuple[int, int, int]:
    """``#rrggbb`` or ``#rgb`` to RGB; anything else is the default background."""
    match = _HEX.match(value.strip()) if isinstance(value, str) else None
    digits = match.group(1) if match else DEFAULT_BACKGROUND[1:]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def rgb_to_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """BT.601 limited range, as swscale and x264 assume for yuv420p."""
    r, g, b = rgb
    y = 16 + (65.738 * r + 129.057 * g + 25.064 * b) / 256
    u = 128 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256
    v = 128 + (112.439 * r - 94.154 * g - 18.285 * b) / 256
    return (round(y), round(u), round(v))


@dataclass(frozen=True)
class TileSource:
    """One tile to draw: the participant's latest frame (None: a dark tile with the name)."""

    key: str
    name: str
    frame: VideoFrame | None
    fit: str = "cover"  # "cover": crop to fill the cell (cameras); "contain": letterbox


@dataclass(frozen=True)
class Label:
    """A rendered name: luma and alpha (0..256) at full resolution, alpha at half."""

    luma: U16
    alpha: U16
    chroma_alpha: U16

    @property
    def size(self) -> tuple[int, int]:
        return (int(self.luma.shape[1]), int(self.luma.shape[0]))


@lru_cache(maxsize=256)
def render_label(name: str, font_size: int) -> Label:
    """Render ``name`` (white on a translucent black box) once; cached."""
    font = ImageFont.load_default(size=font_size)
    text = name[:40] or "?"
    left, top, right, bottom = font.getbbox(text)
    pad = max(4, font_size // 3)
    width = int(right - left + 2 * pad + 1) // 2 * 2
    height = int(bottom - top + 2 * pad + 1) // 2 * 2
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).text((pad - left, pad - top), text, fill=255, font=font)
    glyph = np.asarray(mask, dtype=np.uint16)
    alpha = np.maximum(glyph, 150) * 256 // 255
    luma = 16 + glyph * (235 - 16) // 255
    box = alpha.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
    # the box darkens the chroma towards grey; the white text is grey as well
    return Label(luma.astype(np.uint16), alpha.astype(np.uint16), box.astype(np.uint16))


class Canvas:
    """A yuv420p picture as one contiguous buffer with Y/U/V plane views."""

    def __init__(self, size: tuple[int, int]) -> None:
        width, height = size
        self.width, self.height = width, height
        self.buffer: U8 = np.zeros(width * height * 3 // 2, dtype=np.uint8)
        luma = width * height
        self.y = self.buffer[:luma].reshape(height, width)
        self.u = self.buffer[luma : luma + luma // 4].reshape(height // 2, width // 2)
        self.v = self.buffer[luma + luma // 4 :].reshape(height // 2, width // 2)

    def fill(self, rect: Rect, yuv: tuple[int, int, int]) -> None:
        y, u, v = yuv
        self.y[rect.y : rect.y + rect.height, rect.x : rect.x + rect.width] = y
        cx, cy, cw, ch = rect.x // 2, rect.y // 2, rect.width // 2, rect.height // 2
        self.u[cy : cy + ch, cx : cx + cw] = u
        self.v[cy : cy + ch, cx : cx + cw] = v

    def paste(self, rect: Rect, flat: U8) -> None:
        """Copy a yuv420p picture of exactly ``rect``'s size (flat Y, U, V planes)."""
        w, h = rect.width, rect.height
        cx, cy, cw, ch = rect.x // 2, rect.y // 2, w // 2, h // 2
        self.y[rect.y : rect.y + h, rect.x : rect.x + w] = flat[: w * h].reshape(h, w)
        self.u[cy : cy + ch, cx : cx + cw] = flat[w * h : w * h + cw * ch].reshape(ch, cw)
        self.v[cy : cy + ch, cx : cx + cw] = flat[w * h + cw * ch :].reshape(ch, cw)

    def paste_crop(self, cell: Rect, scaled: Rect, flat: U8) -> None:
        """Copy the part of a yuv420p picture of ``scaled``'s size and place that covers
        ``cell`` (the picture overhangs the cell; even offsets)."""
        w, h = scaled.width, scaled.height
        ox, oy = cell.x - scaled.x, cell.y - scaled.y
        cw, ch = cell.width, cell.height
        luma = flat[: w * h].reshape(h, w)
        self.y[cell.y : cell.y + ch, cell.x : cell.x + cw] = luma[oy : oy + ch, ox : ox + cw]
        half_w, half_h = w // 2, h // 2
        u = flat[w * h : w * h + half_w * half_h].reshape(half_h, half_w)
        v = flat[w * h + half_w * half_h :].reshape(half_h, half_w)
        cx, cy = cell.x // 2, cell.y // 2
        sx, sy = ox // 2, oy // 2
        self.u[cy : cy + ch // 2, cx : cx + cw // 2] = u[sy : sy + ch // 2, sx : sx + cw // 2]
        self.v[cy : cy + ch // 2, cx : cx + cw // 2] = v[sy : sy + ch // 2, sx : sx + cw // 2]

    def blend(self, x: int, y: int, label: Label) -> None:
        """Alpha-blend ``label`` at (x, y) (even), clipped to the canvas."""
        width, height = label.size
        width = min(width, self.width - x)
        height = min(height, self.height - y)
        if width <= 0 or height <= 0:
            return
        alpha = label.alpha[:height, :width]
        region = self.y[y : y + height, x : x + width]
        mixed = region * (256 - alpha) + label.luma[:height, :width] * alpha
        region[...] = mixed >> 8
        calpha = label.chroma_alpha[: height // 2, : width // 2]
        for plane in (self.u, self.v):
            part = plane[y // 2 : y // 2 + height // 2, x // 2 : x // 2 + width // 2]
            part[...] = (part * (256 - calpha) + 128 * calpha) >> 8

    def frame(self) -> VideoFrame:
        return VideoFrame.from_ndarray(
            self.buffer.reshape(self.height * 3 // 2, self.width), format="yuv420p"
        )


class Compositor:
    """Draws the tiles of one room into a canvas of ``size``."""

    def __init__(self, size: tuple[int, int], background_color: str, show_names: bool) -> None:
        self.size = size
        self.show_names = show_names
        self.background = rgb_to_yuv(parse_color(background_color))
        self._canvas = Canvas(size)
        self._blank = Canvas(size)
        self._blank.fill(Rect(0, 0, size[0], size[1]), self.background)
        self.foreground: Overlay | None = None  # over the tiles (z-index 1)
        self.backdrop: Overlay | None = None  # under them: seen where no tile is (z-index -1)
        # per tile key: (source frame, target rect, scaled frame), to skip rescaling a frame
        # that has not changed since the previous tick
        self._scaled: dict[str, tuple[VideoFrame, Rect, U8]] = {}
        # per tile key: its scaler (swscale keeps its context while sizes and formats hold)
        self._scalers: dict[str, VideoReformatter] = {}

    def set_layer(self, z: int, overlay: Overlay | None) -> None:
        """Show (or remove, None) the foreground (``z`` 1) or background (-1) layer. The
        background is painted once into the blank canvas every frame starts from."""
        if z > 0:
            self.foreground = overlay
            return
        self.backdrop = overlay
        self._blank.fill(Rect(0, 0, self.size[0], self.size[1]), self.background)
        if overlay is not None:
            overlay.blend(self._blank.y, self._blank.u, self._blank.v)

    def compose(
        self,
        cells: list[Rect],
        sources: list[TileSource],
        inserts: Sequence[str] = (),
        insert_at: tuple[int, int] | None = None,
    ) -> VideoFrame:
        """One frame: the tiles in their cells, their names, the audio insert's name cards
        (``inserts``, see audio_insert.py) and the layers."""
        canvas = self._canvas
        np.copyto(canvas.buffer, self._blank.buffer)
        live: dict[str, tuple[VideoFrame, Rect, U8]] = {}
        for cell, source in zip(cells, sources, strict=False):
            if source.frame is None:
                canvas.fill(cell, DARK_TILE)
            else:
                content = (source.frame.width, source.frame.height)
                covering = source.fit == "cover"
                target = cover(cell, content) if covering else fit(cell, content)
                cached = self._scaled.get(source.key)
                if cached and cached[0] is source.frame and cached[1] == target:
                    scaled = cached[2]
                else:
                    scaler = self._scalers.get(source.key) or VideoReformatter()
                    self._scalers[source.key] = scaler
                    picture = scaler.reformat(
                        source.frame, width=target.width, height=target.height, format="yuv420p"
                    )
                    scaled = np.asarray(picture.to_ndarray(), dtype=np.uint8).reshape(-1)
                live[source.key] = (source.frame, target, scaled)
                if covering and target != cell:
                    canvas.paste_crop(cell, target, scaled)
                else:
                    canvas.paste(target, scaled)
            if self.show_names or source.frame is None:
                self._name(cell, source.name)
        self._scaled = live
        for gone in self._scalers.keys() - live.keys():
            del self._scalers[gone]
        if inserts:
            self._inserts(inserts, insert_at)
        if self.foreground is not None:
            self.foreground.blend(canvas.y, canvas.u, canvas.v)
        return canvas.frame()

    def _inserts(self, names: Sequence[str], at: tuple[int, int] | None) -> None:
        labels = [render_label(name, INSERT_FONT) for name in names]
        size = (self._canvas.width, self._canvas.height)
        corners = audio_insert.origins([label.size for label in labels], at, size)
        for label, (x, y) in zip(labels, corners, strict=True):
            self._canvas.blend(x, y, label)  # clipped to the canvas

    def _name(self, cell: Rect, name: str) -> None:
        font_size = max(12, min(28, cell.height // 14))
        label = render_label(name, font_size)
        width, height = label.size
        margin = max(4, cell.height // 40) // 2 * 2
        x = cell.x + max(0, (cell.width - width) // 2) // 2 * 2
        y = cell.y + max(0, cell.height - height - margin) // 2 * 2
        if width > cell.width:
            label = Label(
                label.luma[:, : cell.width],
                label.alpha[:, : cell.width],
                label.chroma_alpha[:, : cell.width // 2],
            )
        self._canvas.blend(x, y, label)
