"""Small parts: the marker-bit jitter buffer, the mixer, the encoder, the packet queue."""

from __future__ import annotations

import asyncio

import aiortc.rtcrtpreceiver
import av
import numpy as np
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtp import RtpPacket

import vidroom.media.peer  # noqa: F401 - installs the jitter buffer
from vidroom.media.encoder import SharedEncoder
from vidroom.media.jitter import MarkerJitterBuffer
from vidroom.media.mixer import Mixer, VoiceDetector
from vidroom.media.testing import ToneAudioTrack, dominant_tones
from vidroom.media.tracks import PacketTrack, route_keyframe_requests


def rtp(seq: int, ts: int, marker: bool) -> RtpPacket:
    packet = RtpPacket(payload_type=96, sequence_number=seq, timestamp=ts)
    packet.marker = int(marker)
    packet._data = bytes([seq % 256])  # type: ignore[attr-defined]
    return packet


def test_marker_jitter_buffer_emits_on_the_last_packet() -> None:
    assert aiortc.rtcrtpreceiver.JitterBuffer is MarkerJitterBuffer  # installed
    stock = JitterBuffer(capacity=128, is_video=True)
    ours = MarkerJitterBuffer(capacity=128, is_video=True)
    frame1 = [rtp(10, 1000, False), rtp(11, 1000, False), rtp(12, 1000, True)]
    for packet in frame1:
        _, stock_out = stock.add(packet)
        _, our_out = ours.add(packet)
    assert stock_out is None  # aiortc waits for the next frame's first packet
    assert our_out is not None
    assert our_out.timestamp == 1000
    assert our_out.data == bytes([10, 11, 12])
    # out of order inside a frame: emitted only once contiguous
    assert ours.add(rtp(14, 2000, True))[1] is None
    out = ours.add(rtp(13, 2000, False))[1]
    assert out is not None
    assert out.data == bytes([13, 14])
    # the stock rule still applies to a frame that ends without a marker
    ours.add(rtp(15, 3000, False))
    out = ours.add(rtp(16, 4000, True))[1]
    assert out is not None
    assert out.timestamp == 3000
    # audio buffers are left alone
    audio = MarkerJitterBuffer(capacity=16, prefetch=4)
    assert audio.add(rtp(1, 0, True))[1] is None


def tone(hz: float, samples: int = 960, offset: int = 0) -> av.AudioFrame:
    t = np.arange(offset, offset + samples) / 48000
    data = (np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16)
    stereo = np.repeat(data, 2).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
    frame.sample_rate = 48000
    return frame


def test_mix_minus() -> None:
    mixer = Mixer()
    inputs = {key: mixer.add(key) for key in ("a", "b", "c")}
    assert mixer.mix(["a", "b", "c"]).of("a").max() == 0  # nothing yet: silence
    heard: dict[str, list[np.ndarray]] = {k: [] for k in inputs}  # type: ignore[type-arg]
    for i in range(60):
        for key, hz in (("a", 500.0), ("b", 900.0)):
            inputs[key].push(tone(hz, offset=i * 960))
        mix = mixer.mix(["a", "b", "c"])
        for key in inputs:
            out = mix.of(key)
            assert out.dtype == np.int16
            assert out.shape == (960,)
            heard[key].append(out)
    assert set(mix.talking) == {"a", "b"}  # c sends nothing: it hears the full mix
    assert mix.listeners == ["c"]
    last = {k: np.concatenate(v[-40:]) for k, v in heard.items()}
    assert dominant_tones(last["a"], 48000, [500, 900]) == {900}
    assert dominant_tones(last["b"], 48000, [500, 900]) == {500}
    assert dominant_tones(last["c"], 48000, [500, 900]) == {500, 900}
    mixer.remove("b")
    assert set(mixer.inputs) == {"a", "c"}


def test_mixer_resamples_other_rates_and_layouts() -> None:
    mixer = Mixer()
    narrow = mixer.add("pcmu")
    heard = []
    for i in range(40):  # 20 ms of 8 kHz mono (as G.711 decodes) per 20 ms tick
        t = np.arange(i * 160, (i + 1) * 160) / 8000
        data = (np.sin(2 * np.pi * 700 * t) * 8000).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(data, format="s16", layout="mono")
        frame.sample_rate = 8000
        narrow.push(frame)
        heard.append(mixer.mix(["other"]).of("other"))
    assert dominant_tones(np.concatenate(heard[-25:]), 48000, [500, 700]) == {700}


def test_mixer_input_is_bounded_and_clips() -> None:
    mixer = Mixer()
    loud = mixer.add("x"), mixer.add("y")
    for source in loud:
        for _i in range(50):  # 1 s pushed, never mixed
            frame = av.AudioFrame.from_ndarray(
                np.full((1, 1920), 30000, np.int16), format="s16", layout="stereo"
            )
            frame.sample_rate = 48000
            source.push(frame)
        assert source._buffered <= 10 * 960
    out = mixer.mix(["z"]).of("z")
    assert out.max() == 32767  # 60000 clipped


def test_encoder_keyframes_are_rate_limited() -> None:
    encoder = SharedEncoder((320, 240), 15, min_keyframe_interval=10.0)
    frame = av.VideoFrame(320, 240, "yuv420p")
    packets = encoder.encode(frame, 0)
    assert packets
    assert packets[0].is_keyframe
    assert packets[0].time_base.denominator == 90000
    data = bytes(packets[0])
    assert data.startswith(b"\x00\x00\x00\x01")
    assert (data[4] & 0x1F) == 7
    for i in range(1, 4):
        encoder.request_keyframe()
        for packet in encoder.encode(av.VideoFrame(320, 240, "yuv420p"), i * 6000):
            assert not packet.is_keyframe
            assert packet.pts == i * 6000
    assert encoder.requests == 3
    assert encoder.keyframes == 1
    encoder.min_keyframe_interval = 0.0
    assert encoder.encode(av.VideoFrame(320, 240, "yuv420p"), 99999)[0].is_keyframe
    assert encoder.keyframes == 2
    assert encoder.forced == 2


async def test_packet_track_drops_to_the_next_keyframe() -> None:
    requests: list[int] = []
    track = PacketTrack(lambda: requests.append(1), maxsize=3)

    def packet(key: bool) -> av.Packet:  # type: ignore[type-arg]
        p = av.Packet(b"\x00" * 10)
        p.is_keyframe = key
        return p

    track.push(packet(True))  # before the sender reads: ignored
    reader = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    assert requests == [1]  # a newcomer asks for a keyframe
    track.push(packet(False))  # not a keyframe: skipped
    assert not reader.done()
    key = packet(True)
    track.push(key)
    assert await reader is key
    for _ in range(3):
        track.push(packet(False))
    track.push(packet(False))  # full: drop all, wait for a keyframe, ask for one
    assert track.dropped == 4
    assert requests == [1, 1]
    track.push(packet(False))
    key2 = packet(True)
    track.push(key2)
    assert await track.recv() is key2
    track.stop()


async def test_pli_hook_on_a_sender() -> None:
    calls: list[int] = []

    class FakeTransport:
        state = "new"

    sender = RTCRtpSender(ToneAudioTrack(440), FakeTransport())  # type: ignore[arg-type]
    route_keyframe_requests(sender, lambda: calls.append(1))
    sender._send_keyframe()
    assert calls == [1]


def level(dbfs: float, hz: float = 300.0) -> np.ndarray:  # type: ignore[type-arg]
    """20 ms of a sine at an RMS level of ``dbfs``."""
    t = np.arange(960) / 48000
    peak = 32768 * 10 ** (dbfs / 20) * np.sqrt(2)
    return (np.sin(2 * np.pi * hz * t) * peak).astype(np.int16)


def test_voice_detector_hysteresis() -> None:
    voice = VoiceDetector()
    assert not any(voice.listen(level(-60)) for _ in range(500))  # a quiet line
    assert not any(voice.listen(np.zeros(960, np.int16)) for _ in range(100))
    beep = [level(-10) if i % 25 == 0 else level(-70) for i in range(500)]  # 20 ms / 500 ms
    assert not any(voice.listen(frame) for frame in beep)
    assert not voice.speaking

    changes = [voice.listen(level(-20)) for _ in range(12)]
    assert changes.index(True) == 9  # on after 10 loud frames (200 ms)
    assert voice.speaking
    assert not any(voice.listen(level(-44)) for _ in range(100))  # held: only 4 dB down
    quiet = [voice.listen(level(-60)) for _ in range(40)]
    assert quiet.index(True) == 29  # off after 30 quiet frames (600 ms)
    assert not voice.speaking
    assert not any(voice.listen(level(-44)) for _ in range(100))  # not loud enough to start

    # speech: short gaps count down, not reset; late frames (None) say nothing
    syllables = [level(-25) if i % 5 < 4 else level(-70) for i in range(20)]
    assert [voice.listen(frame) for frame in syllables].count(True) == 1
    voice = VoiceDetector()
    assert not any(voice.listen(f) for f in [level(-20)] * 9 + [None] * 20)  # type: ignore[list-item]
    assert voice.listen(level(-20))
    assert not any(voice.listen(None) for _ in range(29))
    assert voice.listen(None)  # nothing arriving at all: off after 600 ms


def test_mixer_reports_voice_changes() -> None:
    mixer = Mixer()
    talker, listener = mixer.add("talker"), mixer.add("listener")
    for i in range(15):
        talker.push(tone(440, offset=i * 960))  # about -15 dBFS
        silence = av.AudioFrame.from_ndarray(np.zeros((1, 1920), np.int16), layout="stereo")
        silence.sample_rate = 48000
        listener.push(silence)
        mixer.mix(["talker", "listener"])
    assert mixer.voice_changes() == [("talker", True)]
    assert mixer.voice_changes() == []
    assert mixer.speaking() == ["talker"]
    for _ in range(40):
        mixer.mix(["talker", "listener"])  # nothing more arrives
    assert mixer.voice_changes() == [("talker", False)]
    assert mixer.speaking() == []
    removed = mixer.remove("talker")
    assert removed is talker
    assert mixer.remove("talker") is None
