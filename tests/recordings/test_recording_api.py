"""Recording and snapshots through the meeting API, end to end: a real server, a media worker,
two real aiortc participants with distinct colours and tones; the downloaded file probed with
PyAV; ``recording_update`` and ``snapshot_update`` on ``/rt``."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import av
import numpy as np
import pytest

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.realtime.conftest import Cable
from tests.api.eyeson.sepp.conftest import SeppServer
from tests.client.conftest import GREEN, RED, colour_share
from tests.media.recordings import probe
from vidroom.client import Participant
from vidroom.media.testing import ColorVideoTrack, ToneAudioTrack

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


async def join(
    server: SeppServer, key: TeamKey, user: str, rgb: tuple[int, int, int], tone: float
) -> tuple[Participant, str]:
    room = await server.room(key, user)
    p = await Participant.join(
        server.base,
        access_key=room["access_key"],
        name=user,
        video=ColorVideoTrack(rgb, size=(320, 240)),
        audio=ToneAudioTrack(tone),
        ice_servers=[],
    )
    return p, room["access_key"]


async def both_shown(p: Participant) -> None:
    async with asyncio.timeout(30):
        while True:
            frame = await p.next_video_frame(within=30)
            if colour_share(frame, RED) > 0.02 and colour_share(frame, GREEN) > 0.02:
                return


def tone_level(samples: np.ndarray[Any, Any], rate: int, hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    freqs = np.fft.rfftfreq(samples.shape[0], 1 / rate)
    band = (freqs > hz - 15) & (freqs < hz + 15)
    return float(spectrum[band].max() / (np.median(spectrum) + 1e-9))


async def next_recording(cable: Cable, wait: float = 30) -> dict[str, Any]:
    message = await cable.message("recording_update", wait)
    recording: dict[str, Any] = message["recording"]
    return recording


async def test_record_pause_stop_download(media_server: SeppServer, acme: TeamKey) -> None:
    alice, ak = await join(media_server, acme, "alice", RED, 440)
    bob, _ = await join(media_server, acme, "bob", GREEN, 1000)
    http = media_server.http
    cable = await Cable.open(f"ws://127.0.0.1:{media_server.port}/rt?access_key={ak}")
    try:
        await cable.joined()
        await both_shown(alice)
        started = time.monotonic()
        response = await http.post(f"/rooms/{ak}/recording")
        assert response.status_code == 201, response.text
        first = await next_recording(cable)
        assert first["duration"] is None
        assert first["links"]["download"] is None
        assert first["user"]["id"] == "alice"
        assert first["paused"] is False
        assert (await http.post(f"/rooms/{ak}/recording")).status_code == 406
        room = (await http.get(f"/rooms/{ak}")).json()
        assert room["recording"]["id"] == first["id"]
        assert "vidroom_recordings_running 1.0" in (await http.get("/metrics")).text
        # media clients are told too (SEPP ``recording``)
        await bob.wait_for(lambda p: p.recording is not None and p.recording["active"] is True)

        await asyncio.sleep(4)
        assert (await http.put(f"/rooms/{ak}/recording", data={"paused": "true"})).json()["paused"]
        assert (await next_recording(cable))["paused"] is True
        await bob.wait_for(lambda p: p.recording is not None and p.recording["active"] is False)
        await asyncio.sleep(3)
        response = await http.put(f"/rooms/{ak}/recording", data={"paused": "false"})
        assert response.status_code == 200
        assert response.json()["paused"] is False
        assert (await next_recording(cable))["paused"] is False
        await asyncio.sleep(4)
        assert (await http.delete(f"/rooms/{ak}/recording")).status_code == 200
        elapsed = time.monotonic() - started
        stopped = await next_recording(cable)
        assert stopped["duration"] is not None
        assert stopped["links"]["download"] is None
        ready = await next_recording(cable)
        download = ready["links"]["download"]
        assert download is not None
        assert (await http.delete(f"/rooms/{ak}/recording")).status_code == 404
        assert (await http.get(f"/rooms/{ak}")).json()["recording"] is None

        # the file: about 8 s (11 s less 3 s paused), both tiles, both tones
        got = await http.get(download)
        assert got.status_code == 200
        assert got.headers["content-type"] == "video/mp4"
        assert got.headers["content-disposition"].startswith("attachment;")
        path = media_server.state.settings.data_dir / "downloaded.mp4"
        path.write_bytes(got.content)
        found = probe(str(path))
        assert found.errors == 0
        expected = elapsed - 3.0
        assert abs(found.video_span - expected) < 1.5, (found.video_span, expected)
        assert abs(ready["duration"] - found.video_span) <= 1.5
        assert found.max_step() < 0.5  # no gap where it was paused
        last = found.pictures[-1][1]
        frame = av.VideoFrame.from_ndarray(last, format="rgb24")
        assert colour_share(frame, RED) > 0.02
        assert colour_share(frame, GREEN) > 0.02
        assert tone_level(found.audio, found.audio_rate, 440) > 20
        assert tone_level(found.audio, found.audio_rate, 1000) > 20

        metrics = (await http.get("/metrics")).text
        assert "vidroom_recordings_running 0.0" in metrics
        stored = [x for x in metrics.splitlines() if x.startswith("vidroom_media_bytes_stored ")]
        assert float(stored[0].split()[1]) >= len(got.content)

        # Range: the right bytes
        partial = await http.get(download, headers={"Range": "bytes=100-199"})
        assert partial.status_code == 206
        assert partial.content == got.content[100:200]
        # an altered signature, and an expired link, give nothing
        assert (await http.get(download[:-4] + "0000")).status_code == 403
        expired = download.replace("expires=", "expires=1").split("&")[0] + "&signature=ab"
        assert (await http.get(expired)).status_code == 403

        # the API key reads it; another team cannot
        by_key = await http.get(f"/recordings/{ready['id']}", headers=acme.auth)
        assert by_key.status_code == 200
        assert by_key.json()["duration"] == ready["duration"]
        listed = await http.get("/rooms/r1/recordings", headers=acme.auth)
        assert [r["id"] for r in listed.json()] == [ready["id"]]
        listed = await http.get(f"/rooms/{ak}/recordings", headers=acme.auth)
        assert [r["id"] for r in listed.json()] == [ready["id"]]

        # snapshot: a PNG of the composite with both tiles, announced alone
        assert (await http.post(f"/rooms/{ak}/snapshot")).status_code == 201
        update = await cable.message("snapshot_update", 30)
        assert len(update["snapshots"]) == 1
        snapshot = update["snapshots"][0]
        png = await http.get(snapshot["links"]["download"])
        assert png.headers["content-type"] == "image/png"
        with av.open(io.BytesIO(png.content)) as container:
            picture = next(container.decode(video=0))
        assert (picture.width, picture.height) == (1280, 960)
        assert colour_share(picture, RED) > 0.02
        assert colour_share(picture, GREEN) > 0.02
        again = await http.get(f"/rooms/{ak}/snapshots/{snapshot['id']}")
        assert again.status_code == 200
        assert again.json()["id"] == snapshot["id"]
        assert [s["id"] for s in (await http.get(f"/rooms/{ak}")).json()["snapshots"]] == [
            snapshot["id"]
        ]

        # delete: the files go
        assert (
            await http.delete(f"/recordings/{ready['id']}", headers=acme.auth)
        ).status_code == 200
        assert (await http.get(download)).status_code == 404
        assert (await http.get(f"/recordings/{ready['id']}", headers=acme.auth)).status_code == 404
        assert (
            await http.delete(f"/snapshots/{snapshot['id']}", headers=acme.auth)
        ).status_code == 200
        assert (await http.get(snapshot["links"]["download"])).status_code == 404
    finally:
        await cable.conn.close()
        await alice.leave()
        await bob.leave()


async def test_everyone_leaving_finishes_the_recording(
    media_server: SeppServer, acme: TeamKey
) -> None:
    alice, ak = await join(media_server, acme, "alice", RED, 440)
    bob, _ = await join(media_server, acme, "bob", GREEN, 1000)
    http = media_server.http
    try:
        await both_shown(alice)
        assert (await http.post(f"/rooms/{ak}/recording")).status_code == 201
        await asyncio.sleep(3)
    finally:
        await alice.leave()
        await bob.leave()
    async with asyncio.timeout(30):
        while True:
            listed = (await http.get("/rooms/r1/recordings", headers=acme.auth)).json()
            if listed and listed[0]["links"]["download"]:
                break
            await asyncio.sleep(0.2)
    assert 1 <= listed[0]["duration"] <= 5


async def test_refusals(media_server: SeppServer, acme: TeamKey, globex: TeamKey) -> None:
    http = media_server.http
    room = await media_server.room(acme, "carol")
    ak = room["access_key"]
    # nobody is in the call yet
    assert (await http.post(f"/rooms/{ak}/recording")).status_code == 406
    assert (await http.post(f"/rooms/{ak}/snapshot")).status_code == 406
    assert (await http.delete(f"/rooms/{ak}/recording")).status_code == 404
    bad = await http.put(f"/rooms/{ak}/recording", data={"paused": "maybe"})
    assert bad.status_code == 400
    assert "error" in bad.json()
    assert (await http.put(f"/rooms/{ak}/recording", data={"paused": "true"})).status_code == 404
    assert (await http.put(f"/rooms/{ak}/recording")).status_code == 400
    # unknown, hostile and another team's ids
    for rid in ("nope", "x" * 5000, "%00", "..%2f..%2fetc"):
        assert (await http.get(f"/recordings/{rid}", headers=acme.auth)).status_code == 404
    assert (await http.get("/recordings/x")).status_code in (401, 403)
    assert (await http.get("/rooms/r1/recordings", headers=globex.auth)).status_code == 404
    for query in ("page=-1", "page=x", "since=yesterday", "until=2026-01-01T00:00:00"):
        response = await http.get(f"/rooms/r1/recordings?{query}", headers=acme.auth)
        assert response.status_code == 400, query
    assert (await http.get("/downloads/recordings/x?expires=1&signature=00")).status_code == 403
    assert (await http.get("/downloads/other/x")).status_code == 404
    # recording off
    off = await media_server.room(
        acme, "dave", room_id="r2", **{"options[recording_available]": "false"}
    )
    assert (await http.post(f"/rooms/{off['access_key']}/recording")).status_code == 405
    # the meeting ended: 410 everywhere
    assert (await http.delete(f"/rooms/{ak}")).status_code == 204
    for method, path in (("POST", "recording"), ("PUT", "recording"), ("DELETE", "recording"),
                         ("POST", "snapshot")):  # fmt: skip
        response = await http.request(method, f"/rooms/{ak}/{path}", data={"paused": "true"})
        assert response.status_code == 410, (method, path)
