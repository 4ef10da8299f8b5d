"""The stage's JavaScript on its own, in real Chromium: the shortcut mapping (keys, case,
modifiers, typing in inputs), the toolbar's idle rule and timer, and the drawn icons. The
modules are the files the server serves, handed to the page by Playwright from disk (no
network, no server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Page, Route, async_playwright

from tests.conftest import unavailable
from tests.web.test_meeting_browser import CHROMIUM, CHROMIUM_ARGS
from vidroom.web.render import TEMPLATES_DIR

pytestmark = pytest.mark.browser

STATIC = TEMPLATES_DIR.parent / "static" / "meeting"
ORIGIN = "http://vidroom.test"


async def serve(route: Route) -> None:
    path = route.request.url.removeprefix(ORIGIN)
    if path == "/":
        await route.fulfill(body="<!doctype html><title>t</title>", content_type="text/html")
        return
    name = path.removeprefix("/static/meeting/")
    file = STATIC / name
    if "/" in name or not file.is_file():
        await route.fulfill(status=404, body="")
        return
    await route.fulfill(body=file.read_text(), content_type="text/javascript")


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    if not CHROMIUM.exists():
        unavailable("chromium not installed")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            opened = await browser.new_page()
            await opened.route(f"{ORIGIN}/**", serve)
            await opened.goto(ORIGIN + "/")
            yield opened
        finally:
            await browser.close()


async def run(page: Page, body: str) -> Any:
    """``body`` in an async function with the module ``shortcuts.js`` as ``s``."""
    return await page.evaluate(
        "async (body) => { const s = await import('/static/meeting/shortcuts.js');"
        " const icons = await import('/static/meeting/icons.js');"
        " const run = new Function('s', 'icons', 'return (async () => {' + body + '})()');"
        " return await run(s, icons); }",
        body,
    )


KEYS = """
const target = document.body;
const ev = (key, extra = {}) => ({ key, target, ...extra });
return {
  m: s.shortcutFor(ev("m")), M: s.shortcutFor(ev("M", { shiftKey: true })),
  v: s.shortcutFor(ev("v")),
  s: s.shortcutFor(ev("s")), c: s.shortcutFor(ev("c")), p: s.shortcutFor(ev("p")),
  r: s.shortcutFor(ev("r")), l: s.shortcutFor(ev("l")), f: s.shortcutFor(ev("f")),
  x: s.shortcutFor(ev("x")), enter: s.shortcutFor(ev("Enter")), space: s.shortcutFor(ev(" ")),
  ctrl: s.shortcutFor(ev("m", { ctrlKey: true })), meta: s.shortcutFor(ev("v", { metaKey: true })),
  alt: s.shortcutFor(ev("c", { altKey: true })), repeat: s.shortcutFor(ev("m", { repeat: true })),
  handled: s.shortcutFor(ev("m", { defaultPrevented: true })),
  composing: s.shortcutFor(ev("m", { isComposing: true })),
  escape: s.shortcutFor(ev("Escape")),
};
"""


async def test_each_key_maps_to_its_button_and_modifiers_do_not(page: Page) -> None:
    found = await run(page, KEYS)
    assert found == {
        "m": "mic",
        "M": "mic",
        "v": "camera",
        "s": "share",
        "c": "chat",
        "p": "people",
        "r": "record",
        "l": "layout",
        "f": "fullscreen",
        "x": None,
        "enter": None,
        "space": None,
        "ctrl": None,
        "meta": None,
        "alt": None,
        "repeat": None,
        "handled": None,
        "composing": None,
        "escape": "close",
    }
    assert await run(page, "return ['mic', 'leave', 'layout', 'nothing'].map(s.keyOf);") == [
        "M",
        "",
        "L",
        "",
    ]


TYPING = """
const make = (html) => {
  const box = document.createElement("div");
  box.append(html());
  document.body.append(box);
  return box.firstChild;
};
const input = (type) => make(() => Object.assign(document.createElement("input"), { type }));
const editable = make(() => {
  const d = document.createElement("div");
  d.contentEditable = "true";
  return d;
});
const targets = {
  text: input("text"), password: input("password"), url: input("url"), file: input("file"),
  checkbox: input("checkbox"), radio: input("radio"),
  textarea: make(() => document.createElement("textarea")),
  select: make(() => document.createElement("select")),
  editable, button: make(() => document.createElement("button")), body: document.body,
};
const out = {};
for (const [name, target] of Object.entries(targets)) {
  out[name] = [s.shortcutFor({ key: "m", target }), s.shortcutFor({ key: "Escape", target })];
}
return out;
"""


async def test_keys_typed_into_inputs_are_text_but_escape_still_closes(page: Page) -> None:
    found = await run(page, TYPING)
    for typed in ("text", "password", "url", "file", "textarea", "select", "editable"):
        assert found[typed] == [None, "close"], typed
    for pressed in ("checkbox", "radio", "button", "body"):
        assert found[pressed] == ["mic", "close"], pressed


async def test_the_toolbar_hides_only_when_idle_in_the_call_with_nothing_open(page: Page) -> None:
    table = await run(
        page,
        """
        const out = [];
        for (const inCall of [false, true]) for (const idle of [false, true])
          for (const focusInside of [false, true]) for (const panelOpen of [false, true])
            out.push([inCall, idle, focusInside, panelOpen,
                      s.toolbarHidden({ inCall, idle, focusInside, panelOpen })]);
        return out;
        """,
    )
    assert len(table) == 16
    hidden = [row[:4] for row in table if row[4]]
    assert hidden == [[True, True, False, False]]


IDLE = """
const timers = new Map();
let next = 1;
const clock = { set: (fn, ms) => { const id = next++; timers.set(id, { fn, ms }); return id; },
                clear: (id) => timers.delete(id) };
const fire = () => { const [id, t] = [...timers.entries()][0]; timers.delete(id); t.fn(); };
const seen = [];
const timer = new s.IdleTimer(3000, (idle) => seen.push(idle), clock);
const log = [];
timer.poke();
log.push([timer.idle, timers.size, [...timers.values()][0].ms]);
timer.poke(); timer.poke();  // activity restarts the wait: still one timer
log.push([timer.idle, timers.size]);
fire();
log.push([timer.idle, timers.size]);
timer.poke();                // back from idle at once
log.push([timer.idle, timers.size]);
timer.stop();
log.push([timer.idle, timers.size]);
return { log, seen, delay: s.IDLE_MS };
"""


async def test_the_idle_timer_restarts_on_activity_and_stops(page: Page) -> None:
    found = await run(page, IDLE)
    assert found["delay"] == 3000
    assert found["log"] == [
        [False, 1, 3000],
        [False, 1],
        [True, 0],
        [False, 1],
        [False, 0],
    ]
    assert found["seen"] == [True, False]  # told on changes only


async def test_every_icon_is_an_svg_hidden_from_assistive_technology(page: Page) -> None:
    found = await run(
        page,
        """
        const out = {};
        for (const name of Object.keys(icons.ICONS)) {
          const svg = icons.icon(name);
          const paths = svg.querySelectorAll("path").length;
          out[name] = [svg.namespaceURI, svg.getAttribute("aria-hidden"), paths];
        }
        const slot = document.createElement("button");
        const span = document.createElement("span");
        span.dataset.icon = "mic";
        slot.append(span);
        icons.fillIcons(slot); icons.fillIcons(slot);  // filled once
        let unknown = "";
        try { icons.icon("nope"); } catch (error) { unknown = error.message; }
        return { out, filled: span.querySelectorAll("svg").length, unknown };
        """,
    )
    needed = {"mic", "micOff", "camera", "cameraOff", "share", "chat", "people", "record"}
    needed |= {"layout", "fullscreen", "leave", "close"}
    assert needed <= set(found["out"])
    for name, (namespace, hidden, paths) in found["out"].items():
        assert namespace == "http://www.w3.org/2000/svg", name
        assert hidden == "true", name
        assert paths >= 1, name
    assert found["filled"] == 1
    assert found["unknown"] == "meeting page: no icon nope"
