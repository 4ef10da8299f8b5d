"""The realtime service of one application: its tuning. (Who is connected, and so present, is
:mod:`vidroom.meetings.presence`'s.)"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import State


@dataclass(frozen=True)
class RealtimeConfig:
    ping_seconds: float = 3.0  # Rails' heartbeat: ActionCable clients reconnect after ~6 s
    presence_seconds: float = 15.0  # how often an open connection refreshes its presence
    bus_queue: int = 256  # events waiting to be turned into frames
    send_queue: int = 256  # frames waiting for a slow client before it is disconnected
    max_frame: int = 64 * 1024  # characters in one client frame
    max_bad_frames: int = 10  # malformed frames tolerated before the connection is closed
    max_subscriptions: int = 8
    commands_per_second: float = 10.0  # sustained; twice that in a burst (beyond: malformed)
    close_seconds: float = 2.0  # how long a closing handshake may take


@dataclass
class Realtime:
    config: RealtimeConfig = field(default_factory=RealtimeConfig)


def realtime_of(app_state: State) -> Realtime:
    """The application's realtime service (created on first use; tests may install their own as
    ``app.state.realtime`` before serving)."""
    found = getattr(app_state, "realtime", None)
    if isinstance(found, Realtime):
        return found
    created = Realtime()
    app_state.realtime = created
    return created
