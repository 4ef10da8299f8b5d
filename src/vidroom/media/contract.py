"""What the rest of vidroom may know about the media server: plain data and two protocols.

No aiortc or av import here, so the control plane and its tests never load the media stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class RoomSpec:
    """How a meeting's composite looks. 1280x960, or 1280x720 when ``widescreen``."""

    meeting_id: str
    widescreen: bool = False
    show_names: bool = True
    background_color: str = "#121212"
    fps: int = 15
    # the layout (POST /rooms/<ak>/layout): "auto" fills free spots with the participants not
    # placed by ``layout_users``, "custom" keeps them free
    layout: str = "auto"
    layout_name: str | None = None  # a named layout (layout.NAMED); None: the grid
    layout_map: list[list[float | str]] | None = None  # custom boxes [x, y, w, h, fit] (pixels)
    # spot order: participant ids; "" or any other id keeps its spot free
    layout_users: list[str] | None = None
    voice_activation: bool = False  # the loudest speaker takes spot one

    def look(self) -> tuple[object, ...]:
        """What needs a new compositor/encoder when it changes (not the layout)."""
        return (self.widescreen, self.show_names, self.background_color, self.fps)

    @property
    def size(self) -> tuple[int, int]:
        return (1280, 720) if self.widescreen else (1280, 960)


@dataclass(frozen=True)
class PeerSpec:
    """One participant's media connection."""

    participant_id: str  # vidroom's internal participant id
    client_id: str  # the signalling client id (SEPP cid)
    display_name: str


@dataclass(frozen=True)
class Answer:
    call_id: str
    sdp: str  # the SDP answer


@dataclass(frozen=True)
class Member:
    """A participant in the media session, in composite order."""

    participant_id: str
    client_id: str
    display_name: str
    video_muted: bool = False
    presenting: bool = False


@dataclass(frozen=True)
class Tile:
    """Where a participant's picture is in the composite (pixels)."""

    client_id: str
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class EgressStats:
    """A room's recordings and broadcasts (for ``/metrics``)."""

    recordings: int = 0  # running now
    broadcasts: int = 0  # running now (connected or reconnecting)
    reconnects: int = 0  # broadcast reconnect attempts, total


@dataclass(frozen=True)
class RoomStats:
    meeting_id: str
    peers: int
    composite_fps: float
    encode_ms: float  # mean encode time per frame over the last window
    dropped_frames: int  # frames dropped in per-peer queues, total
    keyframes: int  # keyframes encoded, total
    compose_ms: float = 0.0  # mean composite time per frame over the last window
    keyframe_requests: int = 0  # PLI/FIR and newcomer requests received, total
    packets_in: int = 0  # RTP packets received from the room's peers, total
    packets_out: int = 0  # RTP packets sent to the room's peers, total
    egress: EgressStats = field(default_factory=EgressStats)


@dataclass(frozen=True)
class WorkerStats:
    """One media worker process as its last report (every few seconds) showed it."""

    index: int
    pid: int
    cpu_seconds: float  # user + system CPU time of the process, total
    rooms: int
    peers: int
    packets_in: int
    packets_out: int
    loop_lag_ms: float  # how late the worker's event loop woke up, last report
    restarts: int = 0  # how many times this slot's worker was replaced


@dataclass(frozen=True)
class IceServerSpec:
    """An ICE server the media server gathers candidates with (plain data)."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class WorkerConfig:
    """What a media worker process is started with."""

    index: int
    ice_servers: list[IceServerSpec] = field(default_factory=list)
    media_timeout: float = 15.0
    max_peers: int = 16
    host_addresses: list[str] = field(default_factory=list)  # [] = every interface
    stats_interval: float = 2.0
    log_level: str = "warning"


@dataclass(frozen=True)
class RecordingTarget:
    """Where a room records its composite: a fragmented MP4 file on the worker's local disk
    (the control plane chose ``path`` under its data directory)."""

    recording_id: str
    path: str


@dataclass(frozen=True)
class RecordingResult:
    """A recording file as it was closed (or, for a cut-off file, as it was repaired)."""

    recording_id: str
    duration: float  # seconds of media in the file (paused time excluded)
    size: int  # bytes on disk
    path: str = ""


@dataclass(frozen=True)
class BroadcastTarget:
    """An RTMP(S) ingest a room pushes its composite to (FLV: H.264 + AAC).

    ``url`` is the full ``rtmp://`` / ``rtmps://`` URL with its stream key; ``addresses`` are
    the IPs the control plane resolved and checked (outbound rules), which the worker connects
    to instead of resolving the name again (empty: resolve the name). The worker connects
    within ``connect_timeout``; when the ingest drops it reconnects with exponential backoff
    (``retry_initial`` doubling up to ``retry_max`` seconds) and gives up after
    ``give_up_after`` seconds without a connection (reported ``failed``). RTMPS certificates are
    verified, against ``ca_file`` when set."""

    broadcast_id: str
    url: str
    addresses: list[str] = field(default_factory=list)
    connect_timeout: float = 10.0
    retry_initial: float = 1.0
    retry_max: float = 30.0
    give_up_after: float = 120.0
    ca_file: str | None = None  # RTMPS: trusted CA certificates (PEM); None: the system's


@dataclass(frozen=True)
class LayerImage:
    """A layer of the composite: RGBA pixels (``width * height * 4`` bytes, at most the
    composite's size) placed at its top-left corner; ``z`` 1 over the tiles, -1 under them
    (seen only where no tile is)."""

    z: int
    width: int
    height: int
    rgba: bytes


@dataclass(frozen=True)
class PlaybackSpec:
    """A media file (MP4, WebM or MP3) played into the composite and the audio mix at real
    time. ``path`` is a file the worker can read (the control plane fetched it under the
    outbound rules). ``replacement_id``: the participant whose tile it takes (else it gets a
    spot of its own, placed like a participant; ``RoomSpec.layout_users`` may name its
    ``play_id``). ``loop_count`` -1 plays forever, 0 once, N: N + 1 times. ``audio``: its
    sound goes into the mix too."""

    play_id: str
    path: str
    name: str | None = None
    replacement_id: str | None = None
    loop_count: int = 0
    audio: bool = False


@dataclass(frozen=True)
class SnapshotImage:
    """The current composite at full size, as PNG bytes."""

    png: bytes
    width: int
    height: int


@dataclass
class MediaStats:
    rooms: list[RoomStats] = field(default_factory=list)
    workers: list[WorkerStats] = field(default_factory=list)


class MediaError(Exception):
    """A refused media request. ``code`` follows SEPP's reject codes: 400 bad request (e.g.
    malformed SDP), 404 no such room, 406 no usable codec, 409 already in a call,
    503 no capacity."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class MediaEvents(Protocol):
    """What the media server reports; ``app.py`` wires these to the control plane."""

    async def peer_connected(self, meeting_id: str, participant_id: str) -> None: ...

    async def peer_closed(self, meeting_id: str, participant_id: str, reason: str) -> None:
        """The media server closed the peer: its connection failed or was closed by the
        remote, or nothing was heard from it (no media and no data-channel pong) for the
        media timeout. Not reported for ``leave``/``close_room``."""

    async def layout_changed(
        self, meeting_id: str, members: list[Member], tiles: list[Tile]
    ) -> None:
        """The composite's members or tiles changed (join, leave, mute, presenter), including
        a ``mute_video`` the participant sent over the data channel."""

    async def voice_activity(self, meeting_id: str, client_id: str, on: bool) -> None:
        """The participant with signalling client id ``client_id`` started (``on``) or stopped
        speaking. The media server has already sent ``{"type":"voice_activity","cid","on"}`` on
        every peer's data channel; this is for the signalling sockets. ``on=False`` also comes
        when a speaking participant leaves."""

    async def room_lost(self, meeting_id: str, participant_ids: list[str]) -> None:
        """The room's media is gone without a leave: its media worker died or stopped
        answering. Every peer of it (``participant_ids``) is gone; no ``peer_closed`` comes
        for them. The next ``open_room``/``join`` for the meeting starts it again on a live
        worker, so the participants can rejoin while the meeting goes on. Its recordings and
        broadcasts are gone with it (no ``recording_ended``/``broadcast_state`` comes): the
        control plane repairs the recording files with :meth:`MediaControl.finalize_recording`.
        """

    async def recording_ended(self, meeting_id: str, result: RecordingResult, reason: str) -> None:
        """The room ended a recording on its own: ``reason`` "empty" (the last peer left),
        "closed" (:meth:`MediaControl.close_room`) or "error" (writing failed; ``result`` is
        what the file holds). Not reported for :meth:`MediaControl.stop_recording`."""

    async def broadcast_state(
        self, meeting_id: str, broadcast_id: str, state: str, reason: str | None
    ) -> None:
        """A broadcast changed state: "live" (connected, sending), "reconnecting" (the ingest
        dropped or refused; retrying with backoff), "failed" (gave up: never answered within
        the timeout, or no connection for ``give_up_after``; ``reason`` says why; the
        broadcast is over), "ended" (the room ended it: the last peer left or the room closed;
        ``reason`` "empty"/"closed"). Not reported for :meth:`MediaControl.stop_broadcast`."""

    async def playback_ended(self, meeting_id: str, play_id: str, error: str | None) -> None:
        """A playback ended on its own: played out (``error`` None), or the file could not be
        opened or decoded (``error`` says why). Not reported for
        :meth:`MediaControl.stop_playback`."""


class MediaControl(Protocol):
    """The media server as the control plane and the signalling endpoint drive it."""

    async def open_room(self, spec: RoomSpec) -> None:
        """Start the room's mixer (idempotent)."""

    async def close_room(self, meeting_id: str) -> None:
        """Close every peer and stop the mixer (idempotent)."""

    async def join(self, meeting_id: str, peer: PeerSpec, offer_sdp: str) -> Answer:
        """Accept an SDP offer: the peer sends its camera/microphone/screen and receives the
        composite and the audio mix of everyone else. Raises :class:`MediaError`.

        When the offer has an ``m=application`` section (the clients' negotiated data channel
        ``data``, id 0), the media server opens its side of that channel: it sends
        ``{"type":"ping"}`` periodically (a ``pong`` keeps the peer alive like media does),
        ``voice_activity`` messages, and takes ``mute_video`` (and ``desktopstreaming``) from
        the client like :meth:`set_video_muted` (:meth:`set_presenter`). The answer is plain
        aiortc SDP: signalling adds its own session attributes (``a=eyeson-sepp-messaging``)."""

    async def renegotiate(self, meeting_id: str, participant_id: str, offer_sdp: str) -> str:
        """A new offer from a connected peer (e.g. screen share added); returns the answer."""

    async def leave(self, meeting_id: str, participant_id: str) -> None:
        """Close the participant's peer (idempotent)."""

    async def set_video_muted(self, meeting_id: str, participant_id: str, muted: bool) -> None:
        """Show the participant's tile without their camera (their name only)."""

    async def set_presenter(self, meeting_id: str, participant_id: str | None) -> None:
        """Give a participant (screen sharing) the big tile; None: back to the grid."""

    async def start_recording(self, meeting_id: str, target: RecordingTarget) -> None:
        """Record the composite (the room's own H.264 packets, no second video encode) and the
        full audio mix (one AAC encode) into a fragmented MP4 at ``target.path``: moov first, a
        fragment per keyframe, so a killed process leaves a file playable to its last fragment.
        Raises :class:`MediaError` 404 (no room), 409 (the room records already)."""

    async def pause_recording(self, meeting_id: str, recording_id: str, paused: bool) -> None:
        """Pause (nothing is written) or resume into the same file, with no gap in timestamps.
        404 when that recording is not running in the room."""

    async def stop_recording(self, meeting_id: str, recording_id: str) -> RecordingResult:
        """Finish the file and say what it holds. 404 when that recording is not running."""

    async def finalize_recording(self, recording_id: str, path: str) -> RecordingResult:
        """Repair a file cut off by a crash (keep every complete fragment; drop a torn tail)
        and measure it. Runs on any worker; 404 when the file is missing or holds no media."""

    async def start_broadcast(self, meeting_id: str, target: BroadcastTarget) -> None:
        """Push the composite to an RTMP(S) ingest (FLV; the room's H.264 packets and the
        recording's AAC). Returns once started; connection progress comes as
        :meth:`MediaEvents.broadcast_state`. 404 (no room), 409 (one runs already)."""

    async def stop_broadcast(self, meeting_id: str, broadcast_id: str) -> None:
        """Stop pushing (idempotent)."""

    async def set_layer(self, meeting_id: str, z: int, image: LayerImage | None) -> None:
        """Show a foreground (``z`` 1) or background (-1) layer, replacing the one there;
        None removes it. Kept while the room runs (its look may change). 404 (no room)."""

    async def start_playback(self, meeting_id: str, playback: PlaybackSpec) -> None:
        """Start playing; returns once the file opened (400 when it holds no playable audio
        or video). 404 (no room), 409 (that ``play_id`` plays already)."""

    async def stop_playback(self, meeting_id: str, play_id: str) -> None:
        """Stop a playback and free its spot. 404 when it is not playing."""

    async def show_slide(
        self, meeting_id: str, participant_id: str, image: LayerImage | None
    ) -> None:
        """Show a still image (a slide; ``image.z`` is ignored) as ``participant_id``'s
        presentation: it takes the presenter's big spot, contained, in place of their screen
        share. None goes back to the participant's own video. 404 (no room, or that
        participant is not in it)."""

    async def snapshot(self, meeting_id: str) -> SnapshotImage:
        """The current composite as PNG at full size. 404 (no room), 409 (nothing composed
        yet: nobody has joined)."""

    def members(self, meeting_id: str) -> list[Member]: ...

    def stats(self) -> MediaStats: ...
