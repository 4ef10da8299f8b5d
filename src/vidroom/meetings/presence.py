"""Which live connections hold each participant in this process: presence is their union.

A participant is in the meeting while any of their connections is: a realtime websocket
(``/rt``) or a media call (``/call``). :func:`vidroom.meetings.live.set_online` refuses to take
someone offline while a connection here still holds them, so whichever connection ends last
ends the presence (and the ``participant_update``, webhook and history leave that follow).
"""

from __future__ import annotations

REALTIME = "rt"  # a realtime websocket (/rt)
CALL = "call"  # a media call (/call)


class Presence:
    """Connections per participant, by kind (``REALTIME``, ``CALL``).

    One per process (:data:`presence`): participant ids are unique across meetings and teams,
    and whoever ends a participant's presence (a realtime socket, the signalling hub, the
    meeting supervisor) reaches it through ``live.set_online`` without a handle on the app.
    """

    def __init__(self) -> None:
        self._held: dict[str, dict[str, int]] = {}

    def hold(self, participant_id: str, kind: str) -> None:
        kinds = self._held.setdefault(participant_id, {})
        kinds[kind] = kinds.get(kind, 0) + 1

    def release(self, participant_id: str, kind: str) -> bool:
        """Forget one connection of ``kind``; True when nothing holds the participant now."""
        kinds = self._held.get(participant_id, {})
        left = kinds.get(kind, 0) - 1
        if left > 0:
            kinds[kind] = left
        else:
            kinds.pop(kind, None)
        if not kinds:
            self._held.pop(participant_id, None)
        return participant_id not in self._held

    def held(self, participant_id: str, kind: str | None = None) -> bool:
        """Whether a connection (of ``kind``, or of any kind) holds the participant."""
        kinds = self._held.get(participant_id, {})
        return bool(kinds) if kind is None else kinds.get(kind, 0) > 0


presence = Presence()
