"""Audio mix-minus: every 20 ms, everyone's audio summed, each peer's own part taken out.

Every input is resampled to 48 kHz **mono** s16 (mono: half the mixing work, and speech needs
no stereo; aiortc's Opus encoder upmixes for the wire). Each input keeps a short bounded
buffer: it starts contributing once two frames (40 ms) are buffered, which absorbs the burstiness
of aiortc's receive path, and is trimmed back to that when it exceeds 200 ms (clock drift).
Mixing N inputs costs a few numpy operations on 960 samples (well under 0.1 ms for 16 peers),
so it runs inline on the event loop.
"""

from __future__ import annotations

import av
import numpy as np
import numpy.typing as npt
from av.audio.resampler import AudioResampler

from vidroom.media.tracks import AUDIO_RATE, AUDIO_SAMPLES

I16 = npt.NDArray[np.int16]
I32 = npt.NDArray[np.int32]

PRIME_SAMPLES = 2 * AUDIO_SAMPLES
MAX_SAMPLES = 10 * AUDIO_SAMPLES


class MixerInput:
    """One participant's incoming audio, as a bounded 48 kHz mono sample buffer."""

    def __init__(self) -> None:
        self._resampler = AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
        self._chunks: list[I16] = []
        self._buffered = 0
        self._primed = False
        self.overflows = 0

    def push(self, frame: av.AudioFrame) -> None:
        for out in self._resampler.resample(frame):
            samples = out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
            self._chunks.append(samples)
            self._buffered += samples.shape[0]
        if self._buffered > MAX_SAMPLES:
            self.overflows += 1
            self._drop(self._buffered - PRIME_SAMPLES)

    def _drop(self, count: int) -> None:
        joined = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        joined = joined[count:]
        self._chunks = [joined] if joined.shape[0] else []
        self._buffered = int(joined.shape[0])

    def take(self, count: int = AUDIO_SAMPLES) -> I16 | None:
        """The next ``count`` samples, or None while not primed (silence)."""
        if not self._primed:
            if self._buffered < PRIME_SAMPLES:
                return None
            self._primed = True
        if self._buffered < count:
            self._primed = False  # underflow: wait to re-prime rather than stutter
            out = np.zeros(count, np.int16)
            if self._chunks:
                joined = np.concatenate(self._chunks)
                out[: joined.shape[0]] = joined
            self._chunks, self._buffered = [], 0
            return out
        joined = self._chunks[0] if len(self._chunks) == 1 else np.concatenate(self._chunks)
        out, rest = joined[:count], joined[count:]
        self._chunks = [rest] if rest.shape[0] else []
        self._buffered = int(rest.shape[0])
        return out


class Mixer:
    """Mix-minus over the inputs of a room, keyed by participant."""

    def __init__(self) -> None:
        self.inputs: dict[str, MixerInput] = {}

    def add(self, key: str) -> MixerInput:
        return self.inputs.setdefault(key, MixerInput())

    def remove(self, key: str) -> None:
        self.inputs.pop(key, None)

    def mix(self, keys: list[str]) -> dict[str, I16]:
        """One 20 ms frame for each of ``keys``: the total minus its own input, clipped."""
        own: dict[str, I16] = {}
        total: I32 = np.zeros(AUDIO_SAMPLES, np.int32)
        for key, source in self.inputs.items():
            samples = source.take()
            if samples is not None:
                own[key] = samples
                total += samples
        out: dict[str, I16] = {}
        silence = np.zeros(AUDIO_SAMPLES, np.int16)
        for key in keys:
            mine = own.get(key)
            mixed = total - mine if mine is not None else total
            out[key] = np.clip(mixed, -32768, 32767).astype(np.int16) if own else silence
        return out
