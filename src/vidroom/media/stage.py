"""Who and what a room's composite shows, and where: its peers and playbacks in composite
order (the presenter, then the voice-activated speaker, then join order), placed by the
room's layout (``placement.py``), with the presenter's slide in place of their video and the
audio insert's name cards. The room (``room.py``) owns the peers and playbacks; the stage
only reads them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from av import VideoFrame

from vidroom.media import audio_insert, layout, placement, playbacks
from vidroom.media.compositor import TileSource
from vidroom.media.contract import Member, RoomSpec, Tile
from vidroom.media.peer import Peer
from vidroom.media.playback import Playback
from vidroom.media.spotlight import Spotlight

Placed = list[tuple[layout.Spot, Peer | Playback]]


class Stage:
    def __init__(
        self,
        peers: Mapping[str, Peer],
        playing: playbacks.RoomPlaybacks,
        spec: Callable[[], RoomSpec],
    ) -> None:
        self.peers = peers
        self.playbacks = playing
        self.spec = spec
        self.presenter: str | None = None
        self.spotlight = Spotlight()
        self.slides: dict[str, VideoFrame] = {}  # by participant id (slides.py)

    def present(self, participant_id: str | None) -> bool:
        """A new presenter (None: nobody); only theirs of the slides is kept. False when
        nothing changed."""
        if self.presenter == participant_id:
            return False
        self.presenter = participant_id
        self.slides = {k: v for k, v in self.slides.items() if k == participant_id}
        return True

    def gone(self, participant_id: str) -> None:
        if self.presenter == participant_id:
            self.presenter = None
        self.slides.pop(participant_id, None)

    def ordered(self) -> list[Peer]:
        """Everyone in composite order: the presenter, then (voice activation) the speaker in
        the spotlight, then the rest in join order."""
        peers = list(self.peers.values())
        spec = self.spec()
        first = [self.presenter, self.spotlight.key if spec.voice_activation else None]
        peers.sort(key=lambda p: first.index(p.participant_id) if p.participant_id in first else 2)
        return peers

    def placed(self) -> Placed:
        """Who and what is where (``placement.place_with_playbacks``)."""
        order = [p.participant_id for p in self.ordered()]
        visible = self.playbacks.visible()
        placed = placement.place_with_playbacks(self.spec(), order, self.presenter, visible)
        return [(s, self.peers.get(k) or self.playbacks.playing[k]) for s, k in placed]

    def members(self) -> list[Member]:
        """The peers, the placed ones in spot order first."""
        shown = [p for _, p in self.placed() if isinstance(p, Peer)]
        return [
            Member(
                participant_id=p.participant_id,
                client_id=p.spec.client_id,
                display_name=p.spec.display_name,
                video_muted=p.video_muted,
                presenting=p.participant_id == self.presenter,
            )
            for p in shown + [p for p in self.ordered() if p not in shown]
        ]

    def tiles(self) -> list[Tile]:
        return [playbacks.tile_of(spot, item) for spot, item in self.placed()]

    def sources(self, placed: Placed) -> list[TileSource]:
        return [
            playbacks.source_of(spot, item, self.presenter, self.slides) for spot, item in placed
        ]

    def inserts(self, placed: Placed, speaking: Iterable[str]) -> list[str]:
        """The names on the audio insert's cards (``audio_insert.py``)."""
        shown = {item.participant_id for _, item in placed if isinstance(item, Peer)}
        pictured = {p.participant_id for p in self.peers.values() if p.picture() is not None}
        keys = audio_insert.speakers(self.spec().audio_insert, speaking, shown, pictured)
        return [self.peers[key].spec.display_name for key in keys if key in self.peers]
