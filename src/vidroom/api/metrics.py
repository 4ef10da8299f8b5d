"""``/metrics``: Prometheus text format. Meetings and participants come from the database at
scrape time; composite, encoder and queue figures from the media server when it runs."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from vidroom.api.deps import StateDep
from vidroom.broadcasts import repository as broadcasts_repository
from vidroom.media.contract import MediaStats
from vidroom.meetings import live
from vidroom.recordings import repository as recordings_repository
from vidroom.storage.media_store import store_for

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
        yield from _worker_metrics(self.media)


class _Broadcasts(Collector):
    """Live broadcasts as the control plane knows them (from the database, so a replaced media
    worker does not reset them)."""

    def __init__(self, running: int, reconnects: int) -> None:
        self.running = running
        self.reconnects = reconnects

    def collect(self):  # type: ignore[no-untyped-def]
        yield GaugeMetricFamily(
            "vidroom_broadcasts_running",
            "Live broadcasts running (starting, live or reconnecting)",
            value=self.running,
        )
        yield CounterMetricFamily(
            "vidroom_broadcast_reconnects",
            "Times a broadcast's ingest dropped and it reconnected",
            value=self.reconnects,
        )


class _Egress(Collector):
    """Recordings running (from the database) and the bytes the media store holds."""

    def __init__(self, recording: int, stored: int) -> None:
        self.recording = recording
        self.stored = stored

    def collect(self):  # type: ignore[no-untyped-def]
        yield GaugeMetricFamily(
            "vidroom_recordings_running", "Recordings running now", value=self.recording
        )
        yield GaugeMetricFamily(
            "vidroom_media_bytes_stored",
            "Bytes of recordings and snapshots in the media store",
            value=self.stored,
        )


def _worker_metrics(media: MediaStats):  # type: ignore[no-untyped-def]
    """Per media worker process: CPU, rooms, peers, packets, loop lag, restarts."""
    labels = ["worker"]
    cpu = CounterMetricFamily(
        "vidroom_media_worker_cpu_seconds", "CPU time of the media worker", labels=labels
    )
    rooms = GaugeMetricFamily("vidroom_media_worker_rooms", "Rooms on the worker", labels=labels)
    peers = GaugeMetricFamily("vidroom_media_worker_peers", "Peers on the worker", labels=labels)
    packets_in = CounterMetricFamily(
        "vidroom_media_worker_packets_in", "RTP packets received", labels=labels
    )
    packets_out = CounterMetricFamily(
        "vidroom_media_worker_packets_out", "RTP packets sent", labels=labels
    )
    lag = GaugeMetricFamily(
        "vidroom_media_worker_loop_lag_milliseconds",
        "How late the worker's event loop woke up",
        labels=labels,
    )
    restarts = CounterMetricFamily(
        "vidroom_media_worker_restarts", "Times the worker was replaced", labels=labels
    )
    pid = GaugeMetricFamily("vidroom_media_worker_pid", "The worker's process id", labels=labels)
    for worker in media.workers:
        label = [str(worker.index)]
        cpu.add_metric(label, worker.cpu_seconds)
        rooms.add_metric(label, worker.rooms)
        peers.add_metric(label, worker.peers)
        packets_in.add_metric(label, worker.packets_in)
        packets_out.add_metric(label, worker.packets_out)
        lag.add_metric(label, worker.loop_lag_ms)
        restarts.add_metric(label, worker.restarts)
        pid.add_metric(label, worker.pid)
    yield from (cpu, rooms, peers, packets_in, packets_out, lag, restarts, pid)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(state: StateDep) -> Response:
    async with state.db.uow() as uow:
        meetings, participants, online = await live.counts(uow.session)
        broadcasting, reconnects = await broadcasts_repository.totals(uow.session)
        recording = await recordings_repository.running_count(uow.session)
    stored = await store_for(state.settings.media_dir).total_bytes()
    media = state.media.stats() if state.media is not None else None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(meetings, participants, online, media))
    registry.register(_Broadcasts(broadcasting, reconnects))
    registry.register(_Egress(recording, stored))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE)
