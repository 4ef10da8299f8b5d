"""Meeting files after upload: list, read, rename, delete, download with HTTP Range, and who may
reach them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.eyeson.conftest import TeamKey
from tests.files.conftest import PDF, TEXT, png, start_meeting, stored
from vidroom.settings import Settings

IMAGE = png(8, 8, padding=300)  # a few hundred bytes: room for ranges


async def share(
    client: httpx.AsyncClient,
    access_key: str,
    filename: str = "slide.png",
    content: bytes = IMAGE,
    content_type: str = "image/png",
) -> dict[str, Any]:
    response = await client.post(
        f"/rooms/{access_key}/files", files={"file": (filename, content, content_type)}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_list_get_rename_delete(
    client: httpx.AsyncClient, room: str, settings: Settings
) -> None:
    listed = await client.get(f"/rooms/{room}/files")
    assert listed.status_code == 200
    assert listed.json() == {"files": []}

    first = await share(client, room)
    second = await share(client, room, "agenda.txt", TEXT, "text/plain")
    listed = await client.get(f"/rooms/{room}/files")
    assert [f["id"] for f in listed.json()["files"]] == [first["id"], second["id"]]
    assert listed.json()["files"][0] == first

    got = await client.get(f"/rooms/{room}/files/{second['id']}")
    assert got.status_code == 200
    assert got.json() == second

    renamed = await client.put(f"/rooms/{room}/files/{second['id']}", data={"name": "Agenda v2"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Agenda v2"
    assert renamed.json()["type"] == "text/plain"
    got = await client.get(f"/rooms/{room}/files/{second['id']}")
    assert got.json()["name"] == "Agenda v2"

    assert len(stored(settings)) == 2
    deleted = await client.delete(f"/rooms/{room}/files/{first['id']}")
    assert deleted.status_code == 200
    assert deleted.content == b""
    assert (await client.get(f"/rooms/{room}/files/{first['id']}")).status_code == 404
    assert (await client.delete(f"/rooms/{room}/files/{first['id']}")).status_code == 404
    download = await client.get(f"/rooms/{room}/files/{first['id']}/download")
    assert download.status_code == 404
    [left] = stored(settings)  # the deleted file's bytes are gone
    assert left.read_bytes() == TEXT
    listed = await client.get(f"/rooms/{room}/files")
    assert [f["id"] for f in listed.json()["files"]] == [second["id"]]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": {"name": "Plan B.pdf"}},
        {"params": {"name": "Plan B.pdf"}},
        {"files": {"name": (None, "Plan B.pdf")}},
        {"data": {"name": "../../Plan B.pdf\x07"}},
    ],
    ids=["json", "query", "multipart", "hostile"],
)
async def test_rename_encodings(
    client: httpx.AsyncClient, room: str, kwargs: dict[str, Any]
) -> None:
    shared = await share(client, room, "a.pdf", PDF, "application/pdf")
    response = await client.put(f"/rooms/{room}/files/{shared['id']}", **kwargs)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Plan B.pdf"


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"data": {"name": ""}}, {"data": {"name": " /../ "}}, {"json": {"name": ["a"]}}],
    ids=["missing", "empty", "nothing-left", "not-a-string"],
)
async def test_rename_without_a_name_is_400(
    client: httpx.AsyncClient, room: str, kwargs: dict[str, Any]
) -> None:
    shared = await share(client, room)
    response = await client.put(f"/rooms/{room}/files/{shared['id']}", **kwargs)
    assert response.status_code == 400, response.text
    assert (await client.get(f"/rooms/{room}/files/{shared['id']}")).json()["name"] == "slide.png"


async def test_unknown_file_ids(client: httpx.AsyncClient, room: str) -> None:
    for file_id in ("000000000000000000000000", "x" * 500, "%2e%2e"):
        assert (await client.get(f"/rooms/{room}/files/{file_id}")).status_code == 404
        assert (await client.get(f"/rooms/{room}/files/{file_id}/download")).status_code == 404
        renamed = await client.put(f"/rooms/{room}/files/{file_id}", data={"name": "x"})
        assert renamed.status_code == 404
        assert (await client.delete(f"/rooms/{room}/files/{file_id}")).status_code == 404


async def test_download_whole_file(client: httpx.AsyncClient, room: str) -> None:
    shared = await share(client, room, "résumé final.png")
    url = f"/rooms/{room}/files/{shared['id']}/download"
    assert shared["links"]["download"] == f"http://testserver{url}"
    response = await client.get(url)
    assert response.status_code == 200
    assert response.content == IMAGE
    headers = response.headers
    assert headers["content-type"] == "image/png"
    assert headers["content-length"] == str(len(IMAGE))
    assert headers["accept-ranges"] == "bytes"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-disposition"] == (
        "attachment; filename=\"r_sum_ final.png\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20final.png"
    )
    etag = headers["etag"]
    assert etag == f'"{shared["id"]}-{len(IMAGE)}"'

    cached = await client.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag

    head = await client.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(IMAGE))


async def test_download_text_file(client: httpx.AsyncClient, room: str) -> None:
    shared = await share(client, room, "notes.txt", TEXT, "text/plain")
    response = await client.get(f"/rooms/{room}/files/{shared['id']}/download")
    assert response.content == TEXT
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"
    )


async def test_ranges(client: httpx.AsyncClient, room: str) -> None:
    shared = await share(client, room)
    url = f"/rooms/{room}/files/{shared['id']}/download"
    size = len(IMAGE)

    async def ranged(value: str, **extra: str) -> httpx.Response:
        return await client.get(url, headers={"Range": value, **extra})

    first = await ranged("bytes=0-9")
    assert first.status_code == 206
    assert first.content == IMAGE[:10]
    assert first.headers["content-range"] == f"bytes 0-9/{size}"
    assert first.headers["content-length"] == "10"
    assert first.headers["content-type"] == "image/png"

    suffix = await ranged("bytes=-10")
    assert suffix.status_code == 206
    assert suffix.content == IMAGE[-10:]
    assert suffix.headers["content-range"] == f"bytes {size - 10}-{size - 1}/{size}"

    open_ended = await ranged("bytes=100-")
    assert open_ended.status_code == 206
    assert open_ended.content == IMAGE[100:]
    assert open_ended.headers["content-range"] == f"bytes 100-{size - 1}/{size}"

    clipped = await ranged(f"bytes=50-{size + 1000}")  # an end past the file is clipped
    assert clipped.status_code == 206
    assert clipped.content == IMAGE[50:]

    for past in (f"bytes={size}-", f"bytes={size + 5}-{size + 10}", "bytes=-0"):
        response = await ranged(past)
        assert response.status_code == 416, past
        assert response.headers["content-range"] == f"bytes */{size}"

    for malformed in ("bytes=abc", "items=0-5", "bytes=9-2", "0-5"):
        response = await ranged(malformed)  # ignored, as RFC 9110 says
        assert response.status_code == 200, malformed
        assert response.content == IMAGE

    several = await ranged("bytes=0-4,10-14")
    assert several.status_code == 206
    assert several.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert IMAGE[:5] in several.content
    assert IMAGE[10:15] in several.content

    etag = shared["id"]
    stale = await ranged("bytes=0-9", **{"If-Range": '"something-else"'})
    assert stale.status_code == 200
    assert stale.content == IMAGE
    fresh = await ranged("bytes=0-9", **{"If-Range": f'"{etag}-{size}"'})
    assert fresh.status_code == 206


async def test_missing_bytes_are_404(
    client: httpx.AsyncClient, room: str, settings: Settings
) -> None:
    shared = await share(client, room)
    [blob] = stored(settings)
    blob.unlink()
    response = await client.get(f"/rooms/{room}/files/{shared['id']}/download")
    assert response.status_code == 404
    assert response.json() == {"error": "the file's content is missing"}


async def test_another_meeting_cannot_reach_the_files(
    client: httpx.AsyncClient, room: str, acme: TeamKey
) -> None:
    shared = await share(client, room)
    other = await start_meeting(client, acme, "other-room")
    base = f"/rooms/{other}/files/{shared['id']}"
    assert (await client.get(base)).status_code == 404
    assert (await client.get(f"{base}/download")).status_code == 404
    assert (await client.put(base, data={"name": "mine now"})).status_code == 404
    assert (await client.delete(base)).status_code == 404
    assert (await client.get(f"/rooms/{other}/files")).json() == {"files": []}
    # untouched for its own meeting
    got = await client.get(f"/rooms/{room}/files/{shared['id']}")
    assert got.json()["name"] == "slide.png"


async def test_a_guest_sees_and_shares_files(client: httpx.AsyncClient, room: str) -> None:
    shared = await share(client, room)
    meeting = (await client.get(f"/rooms/{room}")).json()
    joined = await client.post(f"/guests/{meeting['room']['guest_token']}", data={"name": "Gus"})
    assert joined.status_code == 201, joined.text
    guest = joined.json()["access_key"]
    listed = (await client.get(f"/rooms/{guest}/files")).json()["files"]
    assert [f["id"] for f in listed] == [shared["id"]]
    assert listed[0]["links"]["self"].startswith(f"http://testserver/rooms/{guest}/files/")
    await share(client, guest, "guest.txt", TEXT, "text/plain")
    assert len((await client.get(f"/rooms/{room}/files")).json()["files"]) == 2


async def test_unknown_key_is_404(client: httpx.AsyncClient, settings: Settings) -> None:
    for key in ("A" * 24, "x" * 500):
        assert (await client.get(f"/rooms/{key}/files")).status_code == 404
        response = await client.post(
            f"/rooms/{key}/files", files={"file": ("a.txt", TEXT, "text/plain")}
        )
        assert response.status_code == 404
        assert response.json() == {"error": "unknown access key"}
        assert (await client.get(f"/rooms/{key}/files/abc/download")).status_code == 404
    assert stored(settings) == []


async def test_ended_meeting_is_410(
    client: httpx.AsyncClient, room: str, settings: Settings
) -> None:
    shared = await share(client, room)
    assert (await client.delete(f"/rooms/{room}")).status_code == 204
    base = f"/rooms/{room}/files"
    responses = [
        await client.get(base),
        await client.post(base, files={"file": ("a.txt", TEXT, "text/plain")}),
        await client.get(f"{base}/{shared['id']}"),
        await client.get(f"{base}/{shared['id']}/download"),
        await client.put(f"{base}/{shared['id']}", data={"name": "late"}),
        await client.delete(f"{base}/{shared['id']}"),
    ]
    assert [r.status_code for r in responses] == [410] * 6
    assert responses[0].json() == {"error": "the meeting is over"}
    # the bytes stay on disk: a cleanup job for ended meetings is future work
    assert len(stored(settings)) == 1
