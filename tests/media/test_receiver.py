"""The replacement decode thread: same contract as aiortc's, mono Opus, cheaper hand-back."""

from __future__ import annotations

import asyncio
import queue
import threading

import aiortc.rtcrtpreceiver
import av
import numpy as np
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from vidroom.media import receiver
from vidroom.media.audio_encoder import AudioEncoder
from vidroom.media.testing import dominant_tones

OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)


def opus_packets(hz: float, count: int) -> list[bytes]:
    encoder = AudioEncoder()
    out = []
    for tick in range(count):
        t = np.arange(tick * 960, (tick + 1) * 960) / 48000
        samples = (np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16)
        out.append(bytes(encoder.encode({"me": samples}, [], None)["me"]))
    return out


async def test_worker_decodes_opus_to_mono_and_ends_with_none() -> None:
    loop = asyncio.get_running_loop()
    input_q: queue.Queue[object] = queue.Queue()
    output_q: asyncio.Queue[object] = asyncio.Queue()
    error = threading.Event()
    thread = threading.Thread(
        target=receiver.decoder_worker, args=(loop, input_q, output_q, error), daemon=True
    )
    thread.start()
    for i, data in enumerate(opus_packets(800, 40)):
        input_q.put((OPUS, JitterFrame(data=data, timestamp=i * 960)))
    input_q.put((OPUS, JitterFrame(data=b"\xff" * 3, timestamp=40 * 960)))  # garbage
    input_q.put(None)
    frames = []
    while (frame := await asyncio.wait_for(output_q.get(), 5)) is not None:
        assert isinstance(frame, av.AudioFrame)
        frames.append(frame)
    thread.join(5)
    assert not thread.is_alive()
    assert len(frames) >= 39
    assert {(f.layout.name, f.format.name, f.sample_rate) for f in frames} == {
        ("mono", "s16", 48000)
    }
    pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in frames])
    assert dominant_tones(pcm[-19200:], 48000, [500, 800]) == {800}


def test_install_replaces_aiortcs_worker() -> None:
    receiver.install()
    assert aiortc.rtcrtpreceiver.decoder_worker is receiver.decoder_worker
