"""The signalling service's tuning."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeppConfig:
    send_queue: int = 64  # messages waiting for a slow client before it is dropped
    bus_queue: int = 64  # meeting events waiting to be handled
    max_frame: int = 128 * 1024  # characters in one client frame (an SDP offer is a few KiB)
    max_bad_frames: int = 10  # malformed frames tolerated during a call
    messages_per_second: float = 20.0  # sustained; twice that in a burst
    start_seconds: float = 30.0  # how long a socket may stay open without a call_start
    presence_seconds: float = 15.0  # how often a call refreshes its participant's presence
    close_seconds: float = 2.0  # how long a closing handshake may take
    media_seconds: float = 10.0  # how long closing a peer or a room may take before giving up
    resume_seconds: float = 15.0  # how long a call outlives its dropped socket (call_resume)
    rejoin_seconds: float = 20.0  # how long a call whose media was lost may take to rejoin
