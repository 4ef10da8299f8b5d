"""Composite time per frame for a 9-tile layout: nothing, a foreground and a background
image, a text card; as ratios to the plain grid, measured side by side in one run.

    python benchmarks/composite_layers.py [--frames 300] [--rounds 3]

The compositor runs in this process (no clients, no network): what is measured is the
render thread's compose step of a media room, with nine changing 640x360 camera frames.
Rounds interleave the cases so machine noise hits all of them alike.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

import av
import numpy as np
from PIL import Image

from vidroom.layers.intake import decode
from vidroom.layers.text_card import render_text_card
from vidroom.media.compositor import Compositor, TileSource
from vidroom.media.layout import named
from vidroom.media.overlay import Overlay

SIZE = (1280, 960)


def frames(count: int) -> list[list[av.VideoFrame]]:
    """``count`` sets of nine distinct camera frames (so no scaled frame is reused)."""
    rng = np.random.default_rng(1)
    out = []
    for _ in range(count):
        row = []
        for _ in range(9):
            picture = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)
            row.append(
                av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
            )
        out.append(row)
    return out


def logo() -> Overlay:
    image = Image.new("RGBA", (320, 120), (255, 255, 255, 0))
    image.paste((240, 240, 240, 255), (10, 10, 310, 110))
    image.paste((240, 40, 40, 160), (40, 40, 280, 80))
    data = io.BytesIO()
    image.save(data, "PNG")
    picture = decode(data.getvalue(), SIZE)
    return Overlay(picture.rgba, picture.width, picture.height, SIZE)


def backdrop() -> Overlay:
    gradient = np.zeros((960, 1280, 4), np.uint8)
    gradient[:, :, 0] = np.linspace(0, 255, 1280, dtype=np.uint8)
    gradient[:, :, 2] = 120
    gradient[:, :, 3] = 255
    return Overlay(gradient.tobytes(), 1280, 960, SIZE)


def card() -> Overlay:
    picture = render_text_card("Quarterly review", "Numbers, plans and questions " * 4, None, SIZE)
    return Overlay(picture.rgba, picture.width, picture.height, SIZE)


def run(comp: Compositor, sets: list[list[av.VideoFrame]]) -> float:
    cells = named("nine", SIZE)
    started = time.perf_counter()
    for row in sets:
        comp.compose(cells, [TileSource(str(i), f"P{i}", f) for i, f in enumerate(row)])
    return (time.perf_counter() - started) / len(sets) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sets = frames(args.frames)
    cases = {
        "plain": Compositor(SIZE, "#121212", True),
        "foreground": Compositor(SIZE, "#121212", True),
        "background": Compositor(SIZE, "#121212", True),
        "fg+bg": Compositor(SIZE, "#121212", True),
        "text card": Compositor(SIZE, "#121212", True),
    }
    cases["foreground"].set_layer(1, logo())
    cases["background"].set_layer(-1, backdrop())
    cases["fg+bg"].set_layer(1, logo())
    cases["fg+bg"].set_layer(-1, backdrop())
    cases["text card"].set_layer(1, card())
    times: dict[str, list[float]] = {name: [] for name in cases}
    cpu0 = time.process_time()
    for _ in range(args.rounds):
        for name, comp in cases.items():
            times[name].append(run(comp, sets))
    cpu = time.process_time() - cpu0
    plain, plain_median = min(times["plain"]), statistics.median(times["plain"])
    print(f"9 tiles, {args.frames} frames x {args.rounds} rounds (best and median round)")
    for name, values in times.items():
        best, median = min(values), statistics.median(values)
        print(
            f"  {name:<11} best {best:6.2f} ms/frame ratio {best / plain:5.3f}"
            f"   median {median:6.2f} ms/frame ratio {median / plain_median:5.3f}"
        )
    print(f"(this process used {cpu:.1f} s CPU; no clients)")


if __name__ == "__main__":
    main()
