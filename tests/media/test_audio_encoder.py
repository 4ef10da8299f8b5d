"""The room's Opus encoders: one packet per peer and tick, one shared encode for listeners."""

from __future__ import annotations

import av
import numpy as np
from av.audio.codeccontext import AudioCodecContext

from vidroom.media.audio_encoder import AUDIO_SAMPLES, AudioEncoder
from vidroom.media.mixer import Mixer
from vidroom.media.testing import dominant_tones


def sine(hz: float, tick: int) -> np.ndarray:  # type: ignore[type-arg]
    t = np.arange(tick * AUDIO_SAMPLES, (tick + 1) * AUDIO_SAMPLES) / 48000
    return (np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16)


def decode(packets: list[av.Packet]) -> np.ndarray:  # type: ignore[type-arg]
    codec = av.CodecContext.create("libopus", "r")
    assert isinstance(codec, AudioCodecContext)
    codec.sample_rate = 48000
    codec.layout = "mono"
    out = []
    for packet in packets:
        for frame in codec.decode(packet):
            out.append(frame.to_ndarray().reshape(-1))
    pcm = np.concatenate(out)
    return pcm.astype(np.float32) if pcm.dtype != np.float32 else pcm


def test_talkers_get_their_own_stream_and_listeners_share_one() -> None:
    encoder = AudioEncoder()
    streams: dict[str, list[av.Packet]] = {"a": [], "b": [], "c": [], "d": []}
    for tick in range(50):
        a, b = sine(500, tick), sine(900, tick)
        full = a + b
        packets = encoder.encode({"a": b, "b": a}, ["c", "d"], full)
        assert set(packets) == {"a", "b", "c", "d"}
        assert packets["c"] is packets["d"]  # one encode for both listeners
        assert packets["a"] is not packets["b"]
        for key, packet in packets.items():
            assert packet.pts == tick * AUDIO_SAMPLES  # the tick's time, whichever encoder
            streams[key].append(packet)
    assert encoder.encodes == 50 * 3
    assert encoder.shared == 50 * 2
    heard = {key: decode(packets)[-24000:] for key, packets in streams.items()}
    assert dominant_tones(heard["a"], 48000, [500, 900]) == {900}
    assert dominant_tones(heard["b"], 48000, [500, 900]) == {500}
    assert dominant_tones(heard["c"], 48000, [500, 900]) == {500, 900}


def test_a_peer_that_stops_talking_moves_to_the_shared_stream_and_back() -> None:
    encoder = AudioEncoder()
    heard: list[av.Packet] = []
    for tick in range(60):
        talking = 20 <= tick < 40
        own = {"x": sine(700, tick)} if talking else {}
        packets = encoder.encode(own, [] if talking else ["x"], sine(700, tick))
        heard.append(packets["x"])
        # released encoders do not pile up: the talker's own encoder exists only while talking
        assert len(encoder._codecs) == (2 if talking else 1)
    pcm = decode(heard)
    assert pcm.shape[0] >= 55 * AUDIO_SAMPLES  # every packet decodes across the switches
    assert dominant_tones(pcm[-19200:], 48000, [500, 700]) == {700}


def test_mixer_treats_digital_silence_as_listening() -> None:
    mixer = Mixer()
    muted, talker = mixer.add("muted"), mixer.add("talker")
    for tick in range(5):
        for source, data in ((muted, np.zeros(AUDIO_SAMPLES, np.int16)), (talker, sine(600, tick))):
            frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = 48000
            source.push(frame)
    mix = None
    for _ in range(3):
        mix = mixer.mix(["muted", "talker"])
    assert mix is not None
    assert list(mix.talking) == ["talker"]
    assert mix.listeners == ["muted"]
    assert not mix.talking["talker"].any()  # it hears nobody else
    assert mix.of("muted").any()
