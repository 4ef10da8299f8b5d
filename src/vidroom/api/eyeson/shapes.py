"""The meeting API's JSON shapes (spec §2), built from domain rows."""

from __future__ import annotations

from typing import Any

from vidroom.broadcasts.models import Broadcast
from vidroom.kit import signed_url, turn
from vidroom.kit.clock import iso_z
from vidroom.kit.signaling_token import issue
from vidroom.meetings.models import Meeting, Participant
from vidroom.meetings.options import merged
from vidroom.recordings.models import Recording
from vidroom.recordings.service import downloadable
from vidroom.settings import Settings
from vidroom.snapshots.models import Snapshot


def ws_base(base_url: str) -> str:
    if base_url.startswith("https://"):
        return "wss://" + base_url[len("https://") :]
    return "ws://" + base_url[len("http://") :]


def room_info(meeting: Meeting) -> dict[str, Any]:
    """§2.10: a room as listed, and as embedded in other objects."""
    return {
        "id": meeting.room_key,
        "name": meeting.room_name,
        "ready": meeting.ready,
        "started_at": iso_z(meeting.started_at),
        "shutdown": meeting.ended_at is not None,
        "guest_token": meeting.guest_token or "",
    }


def user_summary(participant: Participant) -> dict[str, Any]:
    """§2.3."""
    return {
        "id": participant.user_id,
        "name": participant.name,
        "avatar": participant.avatar,
        "guest": participant.guest,
        "joined_at": iso_z(participant.joined_at),
    }


def broadcast_object(row: Broadcast, user: Participant | None, meeting: Meeting) -> dict[str, Any]:
    """§2.6, plus (beyond the spec) ``state`` ("starting" | "live" | "reconnecting", or once
    over "ended" | "failed") and ``reconnects``. Never the stream URL (it holds the key)."""
    return {
        "id": row.id,
        "platform": row.platform,
        "player_url": row.player_url or "",
        "user": user_summary(user) if user is not None else None,
        "room": room_info(meeting),
        "state": row.state,
        "reconnects": row.reconnects,
    }


def recording_object(
    settings: Settings, row: Recording, user: Participant | None, meeting: Meeting
) -> dict[str, Any]:
    """§2.4: duration and download null while recording; duration once stopped; download (a
    signed link, valid 1 h) once ready. Plus (beyond the spec) ``paused``."""
    base = settings.base_url
    download = None
    if downloadable(row):
        download = signed_url.link(base, settings.ensure_secret_key(), "recordings", row.id)
    return {
        "id": row.id,
        "created_at": int(row.created_at.timestamp()),
        "duration": None if row.duration is None else round(row.duration),
        "links": {"self": f"{base}/recordings/{row.id}", "download": download},
        "user": user_summary(user) if user is not None else None,
        "room": room_info(meeting),
        "paused": row.paused,
    }


def snapshot_object(
    settings: Settings, row: Snapshot, user: Participant | None, meeting: Meeting
) -> dict[str, Any]:
    """§2.5 with a fresh signed download link (valid 1 h)."""
    secret = settings.ensure_secret_key()
    return {
        "id": row.id,
        "name": str(int(row.created_at.timestamp())),
        "links": {"download": signed_url.link(settings.base_url, secret, "snapshots", row.id)},
        "creator": user_summary(user) if user is not None else None,
        "created_at": iso_z(row.created_at),
        "room": room_info(meeting),
    }


def participant_info(participant: Participant, meeting: Meeting) -> dict[str, Any]:
    """§2.9: as in the users list and observer events."""
    return {
        "id": participant.user_id,
        "room_id": meeting.room_key,
        "name": participant.name,
        "avatar": participant.avatar,
        "guest": participant.guest,
        "online": participant.online,
    }


def links(settings: Settings, meeting: Meeting, access_key: str) -> dict[str, str]:
    base = settings.base_url
    return {
        "self": f"{base}/rooms/{access_key}",
        "gui": f"{base}/join?{access_key}",
        "guest_join": f"{base}/join?guest={meeting.guest_token or ''}",
        "websocket": f"{base}/rt?access_key={access_key}",
    }


def ice_options(settings: Settings, participant: Participant) -> dict[str, Any]:
    """``stun_servers`` (URLs) and ``turn_servers`` (``{urls, username, password}`` with fresh
    credentials labelled with the participant's client id); both always present."""
    servers = turn.ice_servers(settings, participant.client_id)
    return {
        "stun_servers": [url for s in servers if s.username is None for url in s.urls],
        "turn_servers": [
            {"urls": list(s.urls), "username": s.username, "password": s.credential}
            for s in servers
            if s.username is not None
        ],
    }


def signaling(settings: Settings, meeting: Meeting, participant: Participant) -> dict[str, Any]:
    return {
        "type": "sepp",
        "options": {
            "client_id": participant.client_id,
            "conf_id": meeting.id,
            "auth_token": issue(
                settings.ensure_secret_key(), client_id=participant.client_id, conf_id=meeting.id
            ),
            "endpoint": f"{ws_base(settings.base_url)}/call",
            **ice_options(settings, participant),
        },
    }


def room_response(
    settings: Settings,
    meeting: Meeting,
    participant: Participant,
    access_key: str,
    team_name: str,
    broadcasts: list[dict[str, Any]] | None = None,
    recording: dict[str, Any] | None = None,
    snapshots: list[dict[str, Any]] | None = None,
    presentation: dict[str, Any] | None = None,
    playbacks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """§2.1: the full meeting object a participant sees (``broadcasts``: the running ones,
    as :func:`broadcast_object` shapes them; ``recording``: the running one; ``snapshots``:
    the meeting's; ``presentation``: §2.8 of who presents now; ``playbacks``: those playing,
    §2.7)."""
    user_ready = meeting.ready
    return {
        "access_key": access_key,
        "ready": meeting.ready and user_ready,
        "locked": meeting.locked,
        "room": room_info(meeting),
        "team": {"name": team_name},
        "user": {
            "id": participant.user_id,
            "room_id": meeting.room_key,
            "name": participant.name,
            "avatar": participant.avatar,
            "guest": participant.guest,
            "blocked": participant.blocked,
            "ready": user_ready,
        },
        "links": links(settings, meeting, access_key),
        "options": merged(meeting.options),
        "presentation": presentation,
        "broadcasts": broadcasts or [],
        "recording": recording,
        "snapshots": snapshots or [],
        "playbacks": playbacks or [],
        "signaling": signaling(settings, meeting, participant),
    }


def observer_room(
    meeting: Meeting,
    participants: list[Participant],
    broadcasts: list[dict[str, Any]] | None = None,
    recording: dict[str, Any] | None = None,
    presentation: dict[str, Any] | None = None,
    playbacks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """§5.6 ``room_update`` content for observers."""
    return {
        **room_info(meeting),
        "options": merged(meeting.options),
        "participants": [participant_info(p, meeting) for p in participants],
        "playbacks": playbacks or [],
        "presentation": presentation,
        "broadcasts": broadcasts or [],
        "recording": recording,
    }
