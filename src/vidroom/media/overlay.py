"""Layers: an RGBA picture converted once to the composite's own format (yuv420p planes with
an alpha of 0..256 at full and at half resolution) and blended per frame where it is visible.

Only the pixels the picture covers cost anything per frame: their flat indices are found once,
split into opaque ones (copied) and translucent ones (blended with a precomputed
``value * alpha``), so a logo or a lower third costs a small fraction of a full-frame blend.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
U16 = npt.NDArray[np.uint16]
I64 = npt.NDArray[np.int64]


DENSE = 0.4  # covered share of its bounding box above which the box is blended whole


class _PlaneLayer:
    """One plane's share of an overlay: its covered pixels, either as the bounding box blended
    whole (a card, a full-frame picture) or as opaque and translucent pixel lists (a thin
    frame, scattered shapes)."""

    def __init__(
        self, value: npt.NDArray[np.float64], alpha: U16, stride: int, x0: int, y0: int
    ) -> None:
        rows, cols = np.nonzero(alpha)
        self.box: tuple[slice, slice] | None = None
        self.keep: U16 = np.zeros(0, np.uint16)
        self.add: U16 = np.zeros(0, np.uint16)
        if rows.size:
            top, bottom = int(rows.min()), int(rows.max()) + 1
            left, right = int(cols.min()), int(cols.max()) + 1
            if rows.size >= DENSE * (bottom - top) * (right - left):
                self.box = (slice(y0 + top, y0 + bottom), slice(x0 + left, x0 + right))
                a = alpha[top:bottom, left:right]
                v = np.clip(np.rint(value[top:bottom, left:right]), 0, 255).astype(np.uint16)
                self.keep = (256 - a).astype(np.uint16)
                self.add = (v * a).astype(np.uint16)
                self._scratch: U16 = np.empty_like(self.keep)  # one render thread per room
                rows = cols = rows[:0]
        flat = (rows + y0) * stride + (cols + x0)
        a = alpha[rows, cols]
        v = np.clip(np.rint(value[rows, cols]), 0, 255).astype(np.uint16)
        opaque = a >= 256
        self.opaque_index: I64 = flat[opaque].astype(np.int64)
        self.opaque_value: U8 = v[opaque].astype(np.uint8)
        part = ~opaque
        self.part_index: I64 = flat[part].astype(np.int64)
        self.part_keep: U16 = (256 - a[part]).astype(np.uint16)
        self.part_add: U16 = (v[part] * a[part]).astype(np.uint16)

    def blend(self, plane: U8) -> None:
        if self.box is not None:
            region, scratch = plane[self.box], self._scratch
            np.multiply(region, self.keep, out=scratch, dtype=np.uint16)
            scratch += self.add
            scratch >>= 8
            region[...] = scratch
            return
        flat = plane.reshape(-1)
        if self.opaque_index.size:
            flat[self.opaque_index] = self.opaque_value
        if self.part_index.size:
            under = flat[self.part_index].astype(np.uint16)
            flat[self.part_index] = ((under * self.part_keep + self.part_add) >> 8).astype(np.uint8)


class Overlay:
    """An RGBA picture of ``width`` x ``height`` at the canvas's top-left corner, cut to the
    canvas (``canvas`` = (width, height), even)."""

    def __init__(self, rgba: bytes, width: int, height: int, canvas: tuple[int, int]) -> None:
        if len(rgba) != width * height * 4:
            raise ValueError("rgba holds width * height * 4 bytes")
        cw, ch = canvas
        w, h = min(width, cw) // 2 * 2, min(height, ch) // 2 * 2
        picture = np.frombuffer(rgba, np.uint8).reshape(height, width, 4)[:h, :w]
        rgb = picture[:, :, :3].astype(np.float64)
        alpha = (picture[:, :, 3].astype(np.uint16) * 256 + 127) // 255
        r, g, b = rgb[:, :, 0], rgb[:, :, 1], rgb[:, :, 2]
        # BT.601 limited range, as the compositor's other colours
        y = 16 + (65.738 * r + 129.057 * g + 25.064 * b) / 256
        u = 128 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256
        v = 128 + (112.439 * r - 94.154 * g - 18.285 * b) / 256
        half_alpha = alpha.reshape(h // 2, 2, w // 2, 2).astype(np.float64)
        weights = half_alpha.sum(axis=(1, 3))
        safe = np.where(weights > 0, weights, 1)

        def half(plane: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            # chroma of the covered pixels only (weighted by their alpha)
            block = plane.reshape(h // 2, 2, w // 2, 2) * half_alpha
            out: npt.NDArray[np.float64] = block.sum(axis=(1, 3)) / safe
            return out

        chroma_alpha = np.rint(weights / 4).astype(np.uint16)
        self.size = (w, h)
        self.luma = _PlaneLayer(y, alpha, cw, 0, 0)
        self.u = _PlaneLayer(half(u), chroma_alpha, cw // 2, 0, 0)
        self.v = _PlaneLayer(half(v), chroma_alpha, cw // 2, 0, 0)

    def blend(self, y: U8, u: U8, v: U8) -> None:
        """Blend into a canvas's planes (in place)."""
        self.luma.blend(y)
        self.u.blend(u)
        self.v.blend(v)
