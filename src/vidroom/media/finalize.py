"""Repair a recording cut off by a crash (the server or its media worker SIGKILLed).

The recorder writes fragmented MP4 (moov first, a fragment per keyframe), so a cut-off file
already plays up to its last complete fragment; what it lacks is a clean end (a torn last
fragment, no fragment index) and a known duration. :func:`finalize` stream-copies every
complete packet (no decode, no encode) into a new fragmented MP4 beside the file, then
``os.replace``-s it in, and measures what it holds. Blocking: run it in an executor.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any

import av

from vidroom.media.contract import MediaError, RecordingResult
from vidroom.media.recorder import open_fragmented

log = logging.getLogger(__name__)


def finalize(recording_id: str, path: str) -> RecordingResult:
    """Rewrite ``path`` with its complete packets; 404 when it is missing or holds no media."""
    try:
        if os.path.getsize(path) == 0:
            raise MediaError(404, "the recording file is empty")
    except OSError:
        raise MediaError(404, "the recording file is missing") from None
    try:
        source = av.open(path, "r")
    except av.FFmpegError as exc:
        raise MediaError(404, f"the recording file holds no media: {exc}") from None
    temporary = f"{path}.repair"
    try:
        duration = _copy(source, temporary)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    finally:
        source.close()
    os.replace(temporary, path)
    return RecordingResult(recording_id, round(duration, 3), os.path.getsize(path), path)


def _copy(source: av.container.InputContainer, temporary: str) -> float:
    streams = [s for s in source.streams if s.type in ("video", "audio")]
    if not streams:
        raise MediaError(404, "the recording file holds no media")
    target = open_fragmented(temporary)
    mapping: dict[int, Any] = {s.index: target.add_stream_from_template(s) for s in streams}
    first: dict[int, float] = {}
    end: dict[int, float] = {}
    count = 0
    try:
        for packet in _packets(source, streams):
            index = packet.stream.index
            if packet.pts is None or packet.size == 0 or packet.is_corrupt:
                continue
            time_base = packet.time_base
            assert time_base is not None
            start = float(packet.pts * time_base)
            first.setdefault(index, start)
            end[index] = max(end.get(index, start), start + float(packet.duration * time_base))
            packet.stream = mapping[index]
            target.mux(packet)
            count += 1
    finally:
        target.close()
    if not count:
        raise MediaError(404, "the recording file holds no media")
    return max(end[i] - min(first.values()) for i in end)


def _packets(source: av.container.InputContainer, streams: list[Any]) -> Any:
    """Every packet the demuxer can read; a torn tail ends the reading."""
    demuxer = source.demux(*streams)
    while True:
        try:
            packet = next(demuxer)
        except StopIteration:
            return
        except (av.FFmpegError, EOFError) as exc:
            log.info("recording cut off: %s", exc)
            return
        yield packet
