"""Slides: a still picture shown as a participant's presentation (``MediaControl.show_slide``).

The picture is converted once, in the room's render thread, to a yuv420p frame at its own
size (even width and height, translucent pixels over black); the compositor then scales it
into the presenter's big spot like a screen share, contained. Keeping the frame at its own size
(not the composite's) lets it survive a change of the room's look unchanged.
"""

from __future__ import annotations

import numpy as np
from av import VideoFrame

from vidroom.media.contract import LayerImage


def slide_frame(image: LayerImage) -> VideoFrame:
    """``image`` as a yuv420p frame (odd sizes lose their last row or column)."""
    if image.width < 2 or image.height < 2:
        raise ValueError("a slide needs at least 2x2 pixels")
    if len(image.rgba) != image.width * image.height * 4:
        raise ValueError("a slide needs width*height*4 bytes of RGBA")
    rgba = np.frombuffer(image.rgba, dtype=np.uint8).reshape(image.height, image.width, 4)
    rgba = rgba[: image.height // 2 * 2, : image.width // 2 * 2]
    alpha = rgba[:, :, 3:4].astype(np.uint16)
    rgb = (rgba[:, :, :3].astype(np.uint16) * alpha // 255).astype(np.uint8)
    frame = VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return frame.reformat(format="yuv420p")
