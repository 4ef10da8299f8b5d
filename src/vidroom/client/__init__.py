"""A Python meeting participant (``Participant``) and the ``vidroom bot`` command.

``Participant`` and ``JoinError`` load the media stack (aiortc) on first use, so that the
``vidroom`` command does not pay for it unless a bot runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vidroom.client.participant import JoinError, Participant

__all__ = ["JoinError", "Participant"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from vidroom.client import participant

        return getattr(participant, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
