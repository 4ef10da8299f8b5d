"""The meeting client on ``links.gui``: the page carries the client's markup and module scripts,
never the access key, under the same CSP; the static modules are served with proper types."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.eyeson.conftest import TeamKey, make_team_key
from tests.web.test_join import assert_page, join_as_guest, local, start
from vidroom.state import AppState
from vidroom.web.render import TEMPLATES_DIR

STATIC = TEMPLATES_DIR.parent / "static" / "meeting"
MODULES = sorted(p.name for p in (TEMPLATES_DIR.parent / "static" / "meeting").glob("*.js"))
MODULE_SCRIPT = re.compile(
    r'<script type="module" src="/static/meeting/main\.js\?v=[^"]+"></script>'
)
STAGE_MARKERS = [
    "data-room hidden",
    "data-stage-fallback",
    "data-preview",
    'id="camera-select"',
    'id="microphone-select"',
    "data-join",
    "data-composite",
    "playsinline autoplay",
    'role="toolbar"',
    'data-mic aria-pressed="false"',
    'data-camera-toggle aria-pressed="false"',
    'data-share aria-pressed="false"',
    "data-leave",
    "data-members",
    'role="log" aria-live="polite"',
    'role="status" aria-live="polite"',
    "data-chat-form",
    'aria-controls="chat-body"',
]


@pytest.fixture
async def acme(state: AppState) -> TeamKey:
    return await make_team_key(state, "acme")


async def test_the_meeting_page_carries_the_client(
    client: httpx.AsyncClient, acme: TeamKey
) -> None:
    meeting = await start(client, acme, "Alice")
    access_key = meeting["access_key"]
    page = await client.get(local(meeting["links"]["gui"]))
    assert_page(page, 200)
    text = page.text
    assert MODULE_SCRIPT.search(text), text
    assert 'href="/static/meeting/meeting.css?v=' in text
    for marker in STAGE_MARKERS:
        assert marker in text, marker
    # the key is the page's query string only: not in any link, form, attribute or script
    assert access_key not in text
    assert "<script>" not in text  # CSP: nothing inline
    assert " style=" not in text


async def test_a_guest_gets_the_client_after_the_name_form(
    client: httpx.AsyncClient, acme: TeamKey
) -> None:
    meeting = await start(client, acme, "Alice")
    form = await client.get(local(meeting["links"]["guest_join"]))
    assert "/static/meeting/main.js" not in form.text  # the name form first
    joined = await join_as_guest(client, meeting, "Gina")
    assert joined.status_code == 303
    location = joined.headers["location"]
    page = await client.get(location)
    assert_page(page, 200)
    assert MODULE_SCRIPT.search(page.text)
    assert location.split("?", 1)[1] not in page.text


@pytest.mark.parametrize("name", MODULES)
async def test_the_modules_are_served_as_javascript(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/static/meeting/{name}")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.text == (STATIC / name).read_text()


async def test_the_stylesheet_is_served_as_css(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/meeting/meeting.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_the_modules_never_log() -> None:
    """The access key and tokens travel in URLs the modules build: they must not reach a log."""
    for name in MODULES:
        source = (STATIC / name).read_text()
        assert "console." not in source, name
        assert "eval(" not in source, name
        assert "innerHTML" not in source, name
