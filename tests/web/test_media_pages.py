"""The dashboard's recordings and snapshots of a team, through the ASGI app on a real database and
media store: owners see them newest first and paged with working signed downloads; delete (a
CSRF-guarded form) removes the row and the file; members and other teams get nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from tests.web.test_pages import (
    ClientFactory,
    create_team,
    member,
    new_client,
    owner,
    post,
    signup,
)
from vidroom.media.contract import RecordingResult
from vidroom.meetings import live
from vidroom.recordings import service as recordings
from vidroom.recordings.models import Recording
from vidroom.settings import Settings
from vidroom.snapshots import service as snapshots
from vidroom.snapshots.models import Snapshot
from vidroom.state import AppState
from vidroom.storage.media_store import store_for
from vidroom.teams import service as teams
from vidroom.web import media_pages

__all__ = ["member", "new_client", "owner"]  # fixtures, shared with test_pages

HREF = re.compile(r'href="(http://testserver/downloads/[^"]+)"')
PNG = b"\x89PNG\r\n\x1a\n" + b"snapshot bytes"
MP4 = b"\x00\x00\x00\x18ftypisom" + b"recording bytes"


async def meeting_key(client: httpx.AsyncClient, state: AppState, team: str, room: str) -> str:
    """A meeting of ``team`` started through the meeting API (an API key of the team's owner):
    the participant's access key."""
    async with state.db.uow() as uow:
        found = await teams.get(uow.session, team)
        owners = [u for m, u in await teams.members(uow.session, found) if m.role == "owner"]
        _, key = await teams.create_api_key(uow.session, found, owners[0], label="test")
    response = await client.post(
        "/rooms", data={"id": room, "user[name]": "Alice"}, headers={"Authorization": key}
    )
    assert response.status_code == 201, response.text
    access_key: str = response.json()["access_key"]
    return access_key


async def add_recording(state: AppState, settings: Settings, access_key: str, data: bytes) -> str:
    """A finished recording of the meeting, its file in the media store: its id."""
    store = store_for(settings.media_dir)
    key = store.new_key("recordings", "mp4")
    size = await store.write(key, data)
    async with state.db.uow() as uow:
        meeting, participant = await live.access(uow.session, access_key)
        row = await recordings.begin(uow, meeting, participant, key)
        await recordings.started(uow, row.id)
        await recordings.finish(uow, row.id, RecordingResult(row.id, 3.0, size))
        return row.id


async def add_snapshot(state: AppState, settings: Settings, access_key: str) -> str:
    store = store_for(settings.media_dir)
    key = store.new_key("snapshots", "png")
    size = await store.write(key, PNG)
    async with state.db.uow() as uow:
        meeting, participant = await live.access(uow.session, access_key)
        row = await snapshots.record(
            uow, meeting, participant, storage_key=key, size=size, width=640, height=480
        )
        return row.id


async def storage_key(
    state: AppState, model: type[Recording] | type[Snapshot], item_id: str
) -> str:
    async with state.db.reader() as uow:
        row: Recording | Snapshot | None = await uow.session.get(model, item_id)
        assert row is not None
        return row.storage_key


async def test_owners_list_download_and_delete_recordings_and_snapshots(
    owner: httpx.AsyncClient, state: AppState, settings: Settings
) -> None:
    access_key = await meeting_key(owner, state, "acme", "standup")
    rec = await add_recording(state, settings, access_key, MP4)
    shot = await add_snapshot(state, settings, access_key)

    dashboard = await owner.get("/dashboard")
    assert 'href="/dashboard/teams/acme/media"' in dashboard.text
    page = await owner.get("/dashboard/teams/acme/media")
    assert page.status_code == 200, page.text
    assert f'data-recording="{rec}"' in page.text
    assert f'data-snapshot="{shot}"' in page.text
    assert "0:00:03" in page.text
    assert "640 x 480" in page.text
    links = HREF.findall(page.text)
    assert len(links) == 2, links
    bodies = {(await owner.get(link.replace("&amp;", "&"))).content for link in links}
    assert bodies == {MP4, PNG}

    store = store_for(settings.media_dir)
    rec_file = store.path_for(await storage_key(state, Recording, rec))
    shot_file = store.path_for(await storage_key(state, Snapshot, shot))
    assert rec_file.exists()
    assert shot_file.exists()

    # without the CSRF token: refused, nothing deleted
    refused = await owner.post(f"/dashboard/teams/acme/recordings/{rec}/delete", data={})
    assert refused.status_code == 403
    assert rec_file.exists()

    done = await post(owner, f"/dashboard/teams/acme/recordings/{rec}/delete")
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/dashboard/teams/acme/media"
    assert not rec_file.exists()
    after = await owner.get("/dashboard/teams/acme/media")
    assert "The recording was deleted." in after.text
    assert f'data-recording="{rec}"' not in after.text
    assert "No recordings." in after.text
    gone = await owner.get(links[0].replace("&amp;", "&"))
    assert gone.status_code == 404

    done = await post(owner, f"/dashboard/teams/acme/snapshots/{shot}/delete")
    assert done.status_code == 303, done.text
    assert not shot_file.exists()
    assert "No snapshots." in (await owner.get("/dashboard/teams/acme/media")).text

    again = await post(owner, f"/dashboard/teams/acme/snapshots/{shot}/delete")
    assert again.status_code == 404
    assert "no such snapshot" in again.text


async def test_the_list_is_newest_first_and_paged(
    owner: httpx.AsyncClient, state: AppState, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media_pages, "PER_PAGE", 2)
    access_key = await meeting_key(owner, state, "acme", "standup")
    ids = [await add_snapshot(state, settings, access_key) for _ in range(3)]
    async with state.db.uow() as uow:  # a minute apart, the first oldest
        for age, snapshot_id in enumerate(reversed(ids)):
            row = await uow.session.get(Snapshot, snapshot_id)
            assert row is not None
            row.created_at = row.created_at - timedelta(minutes=age)
    first = await owner.get("/dashboard/teams/acme/media")
    order = re.findall(r'data-snapshot="([^"]+)"', first.text)
    assert order == [ids[2], ids[1]]
    assert 'href="/dashboard/teams/acme/media?page=1" rel="next"' in first.text
    second = await owner.get("/dashboard/teams/acme/media?page=1")
    assert re.findall(r'data-snapshot="([^"]+)"', second.text) == [ids[0]]
    assert 'rel="next"' not in second.text
    assert 'href="/dashboard/teams/acme/media?page=0" rel="prev"' in second.text
    bad = await owner.get("/dashboard/teams/acme/media?page=x")
    assert bad.status_code == 400
    assert "page must be a whole number" in bad.text


async def test_members_and_other_teams_may_not_see_or_delete(
    owner: httpx.AsyncClient,
    member: httpx.AsyncClient,
    new_client: ClientFactory,
    state: AppState,
    settings: Settings,
) -> None:
    access_key = await meeting_key(owner, state, "acme", "standup")
    shot = await add_snapshot(state, settings, access_key)
    listing = await member.get("/dashboard/teams/acme/media")
    assert listing.status_code == 403
    assert shot not in listing.text
    refused = await post(member, f"/dashboard/teams/acme/snapshots/{shot}/delete")
    assert refused.status_code == 403

    other = await new_client()
    await signup(other, "other@example.com")
    await create_team(other, "globex")
    cross = await post(other, f"/dashboard/teams/globex/snapshots/{shot}/delete")
    assert cross.status_code == 404  # another team's item is not revealed
    assert store_for(settings.media_dir).path_for(await storage_key(state, Snapshot, shot)).exists()
    anonymous = await new_client()
    assert (await anonymous.get("/dashboard/teams/acme/media")).status_code == 303
