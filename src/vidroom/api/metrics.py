"""``/metrics``: Prometheus text format. Meetings and participants come from the database at
scrape time; composite, encoder and queue figures from the media server when it runs."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from vidroom.api.deps import StateDep
from vidroom.media.contract import MediaStats
from vidroom.meetings import live

router = APIRouter(tags=["ops"])

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Snapshot(Collector):
    def __init__(self, meetings: int, participants: int, online: int, media: MediaStats | None):
        self.values = (meetings, participants, online)
        self.media = media

    def collect(self):  # type: ignore[no-untyped-def]
        meetings, participants, online = self.values
        yield GaugeMetricFamily("vidroom_meetings", "Running meetings", value=meetings)
        yield GaugeMetricFamily(
            "vidroom_participants", "Participants of running meetings", value=participants
        )
        yield GaugeMetricFamily(
            "vidroom_participants_online", "Participants present in their meeting", value=online
        )
        if self.media is None:
            return
        rooms = self.media.rooms
        yield GaugeMetricFamily("vidroom_media_rooms", "Rooms with a mixer", value=len(rooms))
        peers = GaugeMetricFamily("vidroom_media_peers", "Media connections", labels=["meeting"])
        fps = GaugeMetricFamily("vidroom_composite_fps", "Composite frames/s", labels=["meeting"])
        encode = GaugeMetricFamily(
            "vidroom_encode_milliseconds", "Mean encode time per frame", labels=["meeting"]
        )
        dropped = CounterMetricFamily(
            "vidroom_dropped_frames", "Frames dropped in per-peer queues", labels=["meeting"]
        )
        keyframes = CounterMetricFamily("vidroom_keyframes", "Keyframes sent", labels=["meeting"])
        for room in rooms:
            label = [room.meeting_id]
            peers.add_metric(label, room.peers)
            fps.add_metric(label, room.composite_fps)
            encode.add_metric(label, room.encode_ms)
            dropped.add_metric(label, room.dropped_frames)
            keyframes.add_metric(label, room.keyframes)
        yield from (peers, fps, encode, dropped, keyframes)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(state: StateDep) -> Response:
    async with state.db.uow() as uow:
        meetings, participants, online = await live.counts(uow.session)
    media = state.media.stats() if state.media is not None else None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(meetings, participants, online, media))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE)
