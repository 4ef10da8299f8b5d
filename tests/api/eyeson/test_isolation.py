"""Isolation, route by route: a credential reaches only what it owns.

Two teams run a meeting under the same room id. Every route is called with every credential
that must NOT reach the other team's (or the other meeting's) resource; afterwards nothing of
the victim has changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.eyeson.conftest import make_team_key
from tests.conftest import new_token
from tests.files.conftest import png
from vidroom.broadcasts import service as broadcasts
from vidroom.kit.clock import utc_now
from vidroom.kit.stream_url import parse
from vidroom.meetings import live
from vidroom.recordings.models import Recording
from vidroom.settings import Settings
from vidroom.snapshots.models import Snapshot
from vidroom.state import AppState


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.webhooks_allow_private = True
    return settings


@dataclass
class Side:
    team: str
    key: str  # the team's API key
    access_key: str  # the host's access key
    guest_token: str
    user_id: str
    file_id: str
    webhook_id: str
    dev_token: str
    recording_id: str
    snapshot_id: str


async def make_side(client: httpx.AsyncClient, state: AppState, team: str) -> Side:
    key = (await make_team_key(state, team)).key
    auth = {"Authorization": key}
    response = await client.post(
        "/rooms", data={"id": "shared", "user[name]": f"host of {team}"}, headers=auth
    )
    assert response.status_code == 201
    room = response.json()
    await client.post("/rooms", data={"id": f"only-{team}", "user[name]": "x"}, headers=auth)
    upload = await client.post(
        f"/rooms/{room['access_key']}/files", files={"file": ("a.png", png(), "image/png")}
    )
    assert upload.status_code == 201, upload.text
    hook = await client.post("/webhooks", data={"url": f"http://127.0.0.1:9/{team}"}, headers=auth)
    assert hook.status_code == 201, hook.text
    webhook = (await client.get("/webhooks", headers=auth)).json()
    async with state.db.uow() as uow:  # a running broadcast (no media: its row only)
        meeting, host = await live.access(uow.session, room["access_key"])
        stream = parse(f"rtmp://ingest.example.com/live/key-of-{team}")
        await broadcasts.begin(
            uow, meeting, host, stream=stream, player_url="https://p.example", platform="generic"
        )
        # a finished recording and a snapshot (rows only: no media here)
        recording = Recording(
            meeting_id=meeting.id,
            team_id=meeting.team_id,
            participant_id=host.id,
            storage_key=f"recordings/{'a' * 32}.mp4",
            state="ready",
            duration=5.0,
            size=1000,
            stopped_at=utc_now(),
        )
        picture = Snapshot(
            meeting_id=meeting.id,
            team_id=meeting.team_id,
            participant_id=host.id,
            storage_key=f"snapshots/{'b' * 32}.png",
            size=100,
        )
        uow.session.add_all([recording, picture])
        await uow.session.flush()
        recording_id, snapshot_id = recording.id, picture.id
    return Side(
        team=team,
        key=key,
        access_key=room["access_key"],
        guest_token=room["room"]["guest_token"],
        user_id=room["user"]["id"],
        file_id=upload.json()["id"],
        webhook_id=webhook["id"],
        dev_token=await new_token(state, f"dev@{team}.example.com"),
        recording_id=recording_id,
        snapshot_id=snapshot_id,
    )


# (method, path, headers, body): placeholders {v.*} name the victim, {a.*} the attacker
CASES: list[tuple[str, str, dict[str, str], dict[str, str] | None]] = [
    # the attacker's API key against the victim's team-level resources
    ("DELETE", "/rooms/only-{v.team}", {"Authorization": "{a.key}"}, None),
    ("DELETE", "/webhooks/{v.webhook_id}", {"Authorization": "{a.key}"}, None),
    # the attacker's access key against the victim meeting's users and files
    ("GET", "/rooms/{a.access_key}/users/{v.user_id}", {}, None),
    ("DELETE", "/rooms/{a.access_key}/users/{v.user_id}", {}, None),
    ("GET", "/rooms/{a.access_key}/files/{v.file_id}", {}, None),
    ("GET", "/rooms/{a.access_key}/files/{v.file_id}/download", {}, None),
    ("PUT", "/rooms/{a.access_key}/files/{v.file_id}", {}, {"name": "pwned.png"}),
    ("DELETE", "/rooms/{a.access_key}/files/{v.file_id}", {}, None),
    # broadcasts are reached by the meeting's access key only
    ("POST", "/rooms/{v.guest_token}/broadcasts", {}, {"stream_url": "rtmp://a.example/l/k"}),
    ("POST", "/rooms/{v.key}/broadcasts", {}, {"stream_url": "rtmp://a.example/l/k"}),
    ("PUT", "/rooms/{v.guest_token}/broadcasts", {}, {"player_url": "https://evil.example"}),
    ("PUT", "/rooms/{v.key}/broadcasts/generic", {}, {"player_url": "https://evil.example"}),
    ("DELETE", "/rooms/{v.guest_token}/broadcasts", {}, None),
    ("DELETE", "/rooms/{v.key}/broadcasts", {}, None),
    ("DELETE", "/rooms/{v.guest_token}/broadcasts/generic", {}, None),
    ("DELETE", "/rooms/{v.user_id}/broadcasts/generic", {"Authorization": "{v.key}"}, None),
    # recordings and snapshots: the owning team's API key, the meeting's access key
    ("GET", "/recordings/{v.recording_id}", {"Authorization": "{a.key}"}, None),
    ("DELETE", "/recordings/{v.recording_id}", {"Authorization": "{a.key}"}, None),
    ("GET", "/recordings/{v.recording_id}", {"Authorization": "{v.access_key}"}, None),
    ("GET", "/rooms/{v.access_key}/recordings", {"Authorization": "{a.key}"}, None),
    ("GET", "/rooms/only-{v.team}/recordings", {"Authorization": "{a.key}"}, None),
    ("GET", "/snapshots/{v.snapshot_id}", {"Authorization": "{a.key}"}, None),
    ("DELETE", "/snapshots/{v.snapshot_id}", {"Authorization": "{a.key}"}, None),
    ("DELETE", "/snapshots/{v.snapshot_id}", {"Authorization": "{v.guest_token}"}, None),
    ("GET", "/rooms/{a.access_key}/snapshots/{v.snapshot_id}", {}, None),
    ("GET", "/rooms/{v.access_key}/snapshots", {"Authorization": "{a.key}"}, None),
    ("POST", "/rooms/{v.guest_token}/recording", {}, None),
    ("POST", "/rooms/{v.key}/recording", {}, None),
    ("PUT", "/rooms/{v.guest_token}/recording", {}, {"paused": "true"}),
    ("DELETE", "/rooms/{v.guest_token}/recording", {}, None),
    ("DELETE", "/rooms/{v.key}/recording", {}, None),
    ("POST", "/rooms/{v.guest_token}/snapshot", {}, None),
    ("GET", "/downloads/recordings/{v.recording_id}", {}, None),
    ("GET", "/downloads/snapshots/{v.snapshot_id}?expires=99999999999&signature=00", {}, None),
    # a guest token is not an access key
    ("GET", "/rooms/{v.guest_token}", {}, None),
    ("DELETE", "/rooms/{v.guest_token}", {}, None),
    ("POST", "/rooms/{v.guest_token}/messages", {}, {"type": "chat", "content": "x"}),
    ("POST", "/rooms/{v.guest_token}/lock", {}, None),
    ("GET", "/rooms/{v.guest_token}/files", {}, None),
    ("DELETE", "/rooms/{v.guest_token}/users/{v.user_id}", {}, None),
    # an API key is not an access key, and an access key is not an API key or a guest token
    ("GET", "/rooms/{v.key}", {}, None),
    ("DELETE", "/rooms/{v.key}", {}, None),
    ("GET", "/rooms", {"Authorization": "{v.access_key}"}, None),
    ("GET", "/webhooks", {"Authorization": "{v.access_key}"}, None),
    ("DELETE", "/rooms/shared", {"Authorization": "{v.access_key}"}, None),
    ("GET", "/rooms/shared/users", {"Authorization": "{v.guest_token}"}, None),
    ("POST", "/guests/{v.access_key}", {}, {"name": "intruder"}),
    # developer tokens and API keys do not cross between the two APIs
    ("GET", "/rooms", {"Authorization": "{v.dev_token}"}, None),
    ("GET", "/domains/by-name/victim", {"Authorization": "Bearer {v.key}"}, None),
    ("GET", "/domains/by-name/victim", {"Authorization": "Bearer {a.dev_token}"}, None),
]


def fill(template: str, victim: Side, attacker: Side) -> str:
    return template.format(v=victim, a=attacker)


def _unlinked(body: Any) -> Any:
    return {k: v for k, v in body.items() if k != "links"} if isinstance(body, dict) else body


async def snapshot(client: httpx.AsyncClient, side: Side) -> dict[str, Any]:
    auth = {"Authorization": side.key}
    return {
        "room": (await client.get(f"/rooms/{side.access_key}")).json()["room"],
        "broadcasts": (await client.get(f"/rooms/{side.access_key}")).json()["broadcasts"],
        "rooms": (await client.get("/rooms", headers=auth)).json(),
        "users": (await client.get("/rooms/shared/users", headers=auth)).json(),
        "files": (await client.get(f"/rooms/{side.access_key}/files")).json(),
        "webhook": (await client.get("/webhooks", headers=auth)).json(),
        # (the signed links change with the clock: compared without them)
        "recording": _unlinked(
            (await client.get(f"/recordings/{side.recording_id}", headers=auth)).json()
        ),
        "snapshot": _unlinked(
            (await client.get(f"/snapshots/{side.snapshot_id}", headers=auth)).json()
        ),
    }


@pytest.mark.parametrize(("method", "path", "headers", "body"), CASES)
async def test_no_credential_reaches_what_it_does_not_own(
    client: httpx.AsyncClient,
    state: AppState,
    method: str,
    path: str,
    headers: dict[str, str],
    body: dict[str, str] | None,
) -> None:
    victim = await make_side(client, state, "victim")
    attacker = await make_side(client, state, "attacker")
    before = await snapshot(client, victim)
    response = await client.request(
        method,
        fill(path, victim, attacker),
        headers={k: fill(v, victim, attacker) for k, v in headers.items()},
        data=body,
    )
    assert response.status_code in (401, 403, 404), (response.status_code, response.text)
    assert await snapshot(client, victim) == before


async def test_listings_show_only_the_own_team(client: httpx.AsyncClient, state: AppState) -> None:
    victim = await make_side(client, state, "victim")
    attacker = await make_side(client, state, "attacker")
    auth = {"Authorization": attacker.key}
    rooms = (await client.get("/rooms", headers=auth)).json()
    assert victim.guest_token not in {r["guest_token"] for r in rooms}
    users = (await client.get("/rooms/shared/users", headers=auth)).json()
    assert [u["name"] for u in users] == ["host of attacker"]
    assert (await client.get("/webhooks", headers=auth)).json()["id"] == attacker.webhook_id
    files = (await client.get(f"/rooms/{attacker.access_key}/files")).json()["files"]
    assert [f["id"] for f in files] == [attacker.file_id]


async def test_a_meeting_sees_and_stops_only_its_own_broadcast(
    client: httpx.AsyncClient, state: AppState
) -> None:
    victim = await make_side(client, state, "victim")
    attacker = await make_side(client, state, "attacker")
    before = await snapshot(client, victim)
    (own,) = (await client.get(f"/rooms/{attacker.access_key}")).json()["broadcasts"]
    (theirs,) = before["broadcasts"]
    assert own["id"] != theirs["id"]
    assert own["user"]["name"] == "host of attacker"
    assert (await client.delete(f"/rooms/{attacker.access_key}/broadcasts")).status_code == 200
    assert (await client.delete(f"/rooms/{attacker.access_key}/broadcasts")).status_code == 404
    assert await snapshot(client, victim) == before


async def test_recording_and_snapshot_listings_show_only_the_own_team(
    client: httpx.AsyncClient, state: AppState
) -> None:
    victim = await make_side(client, state, "victim")
    attacker = await make_side(client, state, "attacker")
    auth = {"Authorization": attacker.key}
    listed = (await client.get("/rooms/shared/recordings", headers=auth)).json()
    assert [r["id"] for r in listed] == [attacker.recording_id]
    listed = (await client.get("/rooms/shared/snapshots", headers=auth)).json()
    assert [s["id"] for s in listed] == [attacker.snapshot_id]
    assert victim.recording_id != attacker.recording_id
