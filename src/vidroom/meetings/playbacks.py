"""What plays in each running meeting (``POST/DELETE /rooms/<ak>/playbacks``): the file of each
playback is fetched under the outbound rules, streamed to the media directory, then played by
the media server; ``PlaybackChanged`` (``playback_update``) announces every start, end, stop
and failure.

The list lives in this process, beside the media rooms it describes: a playback is gone when
its room is (the last call left, the media worker died, the server stopped), and so is its
file.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidroom import errors
from vidroom.db.uow import Database
from vidroom.events import catalogue as ev
from vidroom.kit.outbound import OutboundClient, OutboundError, OutboundPolicy, ResponseTooLarge
from vidroom.kit.secrets import new_id
from vidroom.media.contract import MediaControl, MediaError, PlaybackSpec

log = logging.getLogger(__name__)

# a media file is large: more time than a webhook gets, still one overall deadline
FETCH_SECONDS = 600.0
READ_SECONDS = 30.0


@dataclass
class Playback:
    """One playback of a meeting: as asked for (§2.7), and where its file is."""

    team_id: str
    meeting_id: str
    play_id: str
    url: str
    name: str | None = None
    replacement_id: str | None = None  # the replaced user's id (what clients see)
    replacement_participant: str | None = None  # the same participant's internal id
    loop_count: int = 0
    audio: bool = False
    path: Path | None = None
    playing: bool = False  # False while the file is fetched and opened
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def body(self) -> dict[str, Any]:
        """The meeting API's playback object (spec §2.7)."""
        return {
            "url": self.url,
            "name": self.name,
            "play_id": self.play_id,
            "replacement_id": self.replacement_id,
            "audio": self.audio,
            "loop_count": self.loop_count,
        }


@dataclass(frozen=True)
class FetchRules:
    """How playback files are fetched: ``directory`` to put them in, the largest one, and
    whether private addresses may be reached."""

    directory: Path
    max_bytes: int
    allow_private: bool = False


class Playbacks:
    """The playbacks of every meeting whose media this process drives."""

    def __init__(self, db: Database, media: MediaControl) -> None:
        self.db = db
        self.media = media
        self._meetings: dict[str, dict[str, Playback]] = {}

    def playing(self, meeting_id: str) -> list[dict[str, Any]]:
        """The meeting's playbacks playing now, in the order they were started (§2.7)."""
        return [p.body() for p in self._meetings.get(meeting_id, {}).values() if p.playing]

    def start(self, playback: Playback, rules: FetchRules) -> None:
        """Fetch and play in the background; 409 when that play id is playing or being
        fetched in the meeting."""
        current = self._meetings.setdefault(playback.meeting_id, {})
        if playback.play_id in current:
            raise errors.conflict("playback_running", "a playback with that play_id is running")
        playback.path = rules.directory / f"{playback.meeting_id}-{new_id()}"
        current[playback.play_id] = playback
        playback.task = asyncio.create_task(
            self._run(playback, rules), name=f"playback-{playback.play_id}"
        )

    async def stop(self, meeting_id: str, play_id: str) -> Playback:
        """``DELETE``: stop the playback (or its fetch); 404 when there is none."""
        playback = self._meetings.get(meeting_id, {}).get(play_id)
        if playback is None:
            raise errors.not_found("playback_not_found", "no playback with that play_id")
        await self._drop(playback, stop_media=True)
        await self._announce(playback.team_id, meeting_id)
        return playback

    async def ended(self, meeting_id: str, play_id: str, error: str | None) -> None:
        """The media server ended a playback on its own (played out, or unreadable)."""
        playback = self._meetings.get(meeting_id, {}).get(play_id)
        if playback is None:
            return
        await self._drop(playback, stop_media=False)
        if error is None:
            await self._announce(playback.team_id, meeting_id)
        else:
            await self._announce(playback.team_id, meeting_id, play_id, error)

    async def gone(self, meeting_id: str) -> None:
        """The meeting's media room closed or was lost: its playbacks are over."""
        playbacks = list(self._meetings.get(meeting_id, {}).values())
        for playback in playbacks:
            await self._drop(playback, stop_media=False)
        if playbacks:
            await self._announce(playbacks[0].team_id, meeting_id)

    async def close(self) -> None:
        """Shutdown: stop every fetch, delete every file."""
        for meeting_id in list(self._meetings):
            for playback in list(self._meetings.get(meeting_id, {}).values()):
                await self._drop(playback, stop_media=False)

    # --- the background part ---------------------------------------------------------------

    async def _run(self, playback: Playback, rules: FetchRules) -> None:
        assert playback.path is not None
        try:
            await asyncio.to_thread(rules.directory.mkdir, parents=True, exist_ok=True)
            client = OutboundClient(
                OutboundPolicy(
                    allow_private=rules.allow_private,
                    read_timeout=READ_SECONDS,
                    total_timeout=FETCH_SECONDS,
                )
            )
            try:
                size = await client.download(playback.url, playback.path, max_bytes=rules.max_bytes)
            finally:
                await client.aclose()
            log.info("playback %s: fetched %d bytes", playback.play_id, size)
            await self.media.start_playback(
                playback.meeting_id,
                PlaybackSpec(
                    play_id=playback.play_id,
                    path=str(playback.path),
                    name=playback.name,
                    replacement_id=playback.replacement_participant,
                    loop_count=playback.loop_count,
                    audio=playback.audio,
                ),
            )
        except ResponseTooLarge:
            await self._fail(playback, f"the file is larger than {rules.max_bytes} bytes")
        except OutboundError as exc:
            await self._fail(playback, f"the file could not be fetched: {exc}")
        except MediaError as exc:
            reason = "nobody is in the call" if exc.code == 404 else exc.reason
            await self._fail(playback, f"the file cannot be played: {reason[:200]}")
        except Exception:
            log.exception("playback %s could not be started", playback.play_id)
            await self._fail(playback, "the playback could not be started")
        else:
            if self._meetings.get(playback.meeting_id, {}).get(playback.play_id) is playback:
                playback.playing = True
                await self._announce(playback.team_id, playback.meeting_id)
        finally:
            playback.task = None

    async def _fail(self, playback: Playback, message: str) -> None:
        log.info("playback %s failed: %s", playback.play_id, message[:200])
        if self._meetings.get(playback.meeting_id, {}).get(playback.play_id) is not playback:
            return
        playback.task = None  # this task: not cancelled by the drop
        await self._drop(playback, stop_media=False)
        await self._announce(playback.team_id, playback.meeting_id, playback.play_id, message)

    async def _drop(self, playback: Playback, *, stop_media: bool) -> None:
        """Forget the playback, stop its fetch, (``stop_media``) its media, delete its file."""
        current = self._meetings.get(playback.meeting_id, {})
        if current.get(playback.play_id) is playback:
            del current[playback.play_id]
            if not current:
                del self._meetings[playback.meeting_id]
        task, playback.task = playback.task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            stop_media = True  # the fetch may have reached start_playback
        if stop_media:
            try:
                await self.media.stop_playback(playback.meeting_id, playback.play_id)
            except MediaError:
                pass  # it ended meanwhile, or its room is gone
            except Exception:
                log.exception("playback %s: stopping it failed", playback.play_id)
        if playback.path is not None:
            await asyncio.to_thread(playback.path.unlink, missing_ok=True)

    async def _announce(
        self, team_id: str, meeting_id: str, failed: str | None = None, error: str | None = None
    ) -> None:
        try:
            async with self.db.uow() as uow:
                await uow.emit(
                    ev.PlaybackChanged(
                        team_id=team_id,
                        meeting_id=meeting_id,
                        playing=self.playing(meeting_id),
                        failed=failed,
                        error=error,
                    )
                )
        except Exception:
            log.exception("could not announce the playbacks of %s", meeting_id)
