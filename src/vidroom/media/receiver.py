"""A cheaper decode thread for aiortc's receivers.

aiortc (1.16) decodes each receiver's frames in its own thread and hands every decoded frame
back to the event loop with ``asyncio.run_coroutine_threadsafe(output_q.put(frame))``: one
coroutine, one ``concurrent.futures.Future`` and one ``Task`` per frame, 50 times a second per
participant for audio alone. This worker does the same decoding but hands the frames back with
one ``call_soon_threadsafe`` per decoded packet, and decodes Opus straight to what the mixer
consumes (48 kHz mono s16) instead of stereo that the mixer would resample back to mono.

:func:`install` swaps it in for aiortc's module-level ``decoder_worker`` (looked up when a
receiver starts its thread). aiortc is pinned ``<1.17``; ``tests/media`` checks the hook.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from typing import Any

import aiortc.codecs.opus
import aiortc.rtcrtpreceiver
import av
from aiortc.codecs import get_decoder
from aiortc.codecs.base import Decoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from av.audio.codeccontext import AudioCodecContext

log = logging.getLogger(__name__)

OPUS_RATE = 48000


class MonoOpusDecoder(Decoder):
    """Opus to 48 kHz mono s16 (what the room's mixer sums)."""

    def __init__(self) -> None:
        codec = av.CodecContext.create("libopus", "r")
        assert isinstance(codec, AudioCodecContext)
        codec.format = "s16"
        codec.layout = "mono"
        codec.sample_rate = OPUS_RATE
        self.codec = codec

    def decode(self, encoded_frame: JitterFrame) -> list[Any]:
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = aiortc.codecs.opus.TIME_BASE
        return list(self.codec.decode(packet))


def decoder_for(codec: RTCRtpCodecParameters) -> Decoder:
    if codec.mimeType.lower() == "audio/opus":
        return MonoOpusDecoder()
    return get_decoder(codec)


def _deliver(output_q: asyncio.Queue[Any], frames: list[Any]) -> None:
    for frame in frames:
        output_q.put_nowait(frame)


def decoder_worker(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
    decode_error: threading.Event,
) -> None:
    """aiortc's decoder loop (same arguments and end-of-stream ``None``), cheaper hand-back."""
    codec_name = None
    decoder: Decoder | None = None
    while True:
        task = input_q.get()
        try:
            if task is None:
                loop.call_soon_threadsafe(output_q.put_nowait, None)
                break
            codec, encoded_frame = task
            if decoder is None or codec.name != codec_name:
                decoder = decoder_for(codec)
                codec_name = codec.name
            try:
                frames = decoder.decode(encoded_frame)
            except av.FFmpegError as exc:
                # keep the decoder state: a reset would fail every frame up to a keyframe
                log.debug("failed to decode a %s frame: %s", codec.name, exc)
                decode_error.set()
                continue
            if frames:
                loop.call_soon_threadsafe(_deliver, output_q, frames)
        except RuntimeError:  # the event loop is closed: nobody reads any more
            break


def install() -> None:
    """Use :func:`decoder_worker` for every receiver aiortc starts from now on."""
    if not callable(getattr(aiortc.rtcrtpreceiver, "decoder_worker", None)):
        raise RuntimeError("aiortc.rtcrtpreceiver has no decoder_worker: check the aiortc pin")
    aiortc.rtcrtpreceiver.decoder_worker = decoder_worker
