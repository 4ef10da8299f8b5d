"""The meeting page's live-status modules in real Chromium, their pure parts by import() from the
real server: connection.js (stats → figures, quality, the freeze flag), toasts.js (live regions,
dismissal, the limit), marks.js and news.js (people markers, recording/broadcast/lock news).

The browser tests run on SQLite only: the page's JavaScript has nothing database-specific.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.web import test_meeting_page_js as page_js

pytestmark = [pytest.mark.browser, page_js.sqlite_only]

browser = page_js.browser


async def module_page(browser: Browser, server: LiveServer) -> Page:
    """A page of the server's origin (a static file), where the modules import as on the page."""
    page = await browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(f"{server.url}/static/meeting/toasts.js")
    page.problems = problems  # type: ignore[attr-defined]
    return page


def stats(
    at: float,
    *,
    video: int = 0,
    audio: int = 0,
    packets: int = 0,
    lost: int = 0,
    frames: int = 0,
    sent: int = 0,
    rtt: float | None = 0.02,
) -> list[dict[str, Any]]:
    """A getStats() report as Chromium gives it (the fields connection.js reads, and others)."""
    report: list[dict[str, Any]] = [
        {
            "type": "inbound-rtp",
            "id": "IV",
            "kind": "video",
            "timestamp": at,
            "bytesReceived": video,
            "packetsReceived": packets,
            "packetsLost": lost,
            "framesDecoded": frames,
        },
        {
            "type": "inbound-rtp",
            "id": "IA",
            "kind": "audio",
            "timestamp": at,
            "bytesReceived": audio,
            "packetsReceived": packets,
            "packetsLost": 0,
        },
        {"type": "outbound-rtp", "id": "OV", "kind": "video", "timestamp": at, "bytesSent": sent},
        {"type": "outbound-rtp", "id": "OA", "kind": "audio", "timestamp": at, "bytesSent": sent},
        {"type": "transport", "id": "T", "timestamp": at, "selectedCandidatePairId": "CP1"},
        # another pair, not the selected one: its round trip is not the call's
        {
            "type": "candidate-pair",
            "id": "CP0",
            "timestamp": at,
            "state": "succeeded",
            "nominated": True,
            "currentRoundTripTime": 9.0,
        },
    ]
    if rtt is not None:
        report.append(
            {
                "type": "candidate-pair",
                "id": "CP1",
                "timestamp": at,
                "state": "succeeded",
                "nominated": True,
                "currentRoundTripTime": rtt,
            }
        )
    return report


FIGURES = """async ([a, b]) => {
  const m = await import("/static/meeting/connection.js");
  return m.figures(m.snapshot(a), m.snapshot(b));
}"""


async def test_two_stats_snapshots_become_rates_loss_and_round_trip(
    browser: Browser, live_server: LiveServer
) -> None:
    page = await module_page(browser, live_server)
    before = stats(10_000, video=100_000, audio=10_000, packets=1000, lost=10, frames=100, sent=0)
    # 2 s later: 250 kB video + 50 kB audio in, 2 x 100 kB out, 2 x 490 packets, 20 lost, 30 frames
    after = stats(
        12_000,
        video=350_000,
        audio=60_000,
        packets=1490,
        lost=30,
        frames=130,
        sent=100_000,
        rtt=0.0456,
    )
    assert await page.evaluate(FIGURES, [before, after]) == {
        "receiveKbps": 1200,  # (250 000 + 50 000) B * 8 / 2 s
        "sendKbps": 800,  # 200 000 B * 8 / 2 s
        "lossPercent": 2.0,  # 20 lost of 980 received + 20 lost
        "rttMs": 46,  # the selected pair's, not the other one's 9 s
        "fps": 15,
    }
    # an RTCStatsReport is a Map: the same from its values(); counters that went back count 0
    same = """async ([a, b]) => {
      const m = await import("/static/meeting/connection.js");
      const map = (list) => new Map(list.map((s) => [s.id, s]));
      return [
        m.figures(m.snapshot(map(a)), m.snapshot(map(b))),
        m.figures(m.snapshot(b), m.snapshot(a)),
      ];
    }"""
    forward, backward = await page.evaluate(same, [before, after])
    assert forward["receiveKbps"] == 1200
    assert backward == {"receiveKbps": 0, "sendKbps": 0, "lossPercent": 0, "rttMs": 20, "fps": 0}
    # no round trip known (no selected pair yet): null, not 0
    unknown = await page.evaluate(FIGURES, [stats(0, rtt=None), stats(1000, rtt=None)])
    assert unknown["rttMs"] is None
    assert page.problems == []  # type: ignore[attr-defined]


QUALITY = """async (cases) => {
  const m = await import("/static/meeting/connection.js");
  return cases.map(([loss, rtt, frozen]) => m.quality({lossPercent: loss, rttMs: rtt}, frozen));
}"""


async def test_the_quality_thresholds(browser: Browser, live_server: LiveServer) -> None:
    page = await module_page(browser, live_server)
    cases = [
        (0, 20, False),
        (1.9, 149, False),
        (2, 20, False),  # 2 % loss: no longer good
        (0, 150, False),  # 150 ms: no longer good
        (7.9, 399, False),
        (8, 20, False),  # 8 % loss: poor
        (0, 400, False),  # 400 ms: poor
        (0, 20, True),  # frozen: poor whatever the figures
        (0, None, False),  # round trip unknown: judged by loss
    ]
    assert await page.evaluate(QUALITY, cases) == [
        "good",
        "good",
        "fair",
        "fair",
        "fair",
        "poor",
        "poor",
        "poor",
        "good",
    ]


FREEZE = """async (polls) => {
  const m = await import("/static/meeting/connection.js");
  let state = null;
  return polls.map(([report, connected]) => {
    const step = m.progress(state, m.snapshot(report), connected);
    state = step.state;
    return [step.frozen, step.level];
  });
}"""


async def test_the_picture_is_frozen_after_two_seconds_without_a_decoded_frame(
    browser: Browser, live_server: LiveServer
) -> None:
    page = await module_page(browser, live_server)
    frames = [10, 25, 40, 40, 40, 40, 55, 70, 70, 70, 70]
    connected = [True] * 8 + [False, True, True]
    polls = [
        [stats(1000 * i, video=5000 * i, packets=50 * i, frames=f), c]
        for i, (f, c) in enumerate(zip(frames, connected, strict=True))
    ]
    assert await page.evaluate(FREEZE, polls) == [
        [False, None],  # the first snapshot: nothing to compare with yet
        [False, "good"],
        [False, "good"],  # 40 frames at 2 s: the last new frame
        [False, "good"],  # 1 s without a frame
        [True, "poor"],  # 2 s without a frame: frozen
        [True, "poor"],
        [False, "good"],  # frames flow again
        [False, "good"],
        [False, "none"],  # not connected: not frozen, however long no frame comes
        [False, "good"],  # connected again: 2 s of grace from here
        [False, "good"],  # (still 1 s: framesDecoded stays at 70)
    ]
    # an audio-only call (no inbound video at all) never freezes
    audio_only = [
        [[s for s in stats(1000 * i, audio=2000 * i, packets=50 * i) if s["id"] != "IV"], True]
        for i in range(5)
    ]
    assert [frozen for frozen, _ in await page.evaluate(FREEZE, audio_only)] == [False] * 5


TOASTS = """async () => {
  const m = await import("/static/meeting/toasts.js");
  const root = document.createElement("div");
  document.body.append(root);
  const toasts = new m.Toasts(root, {ms: 400, errorMs: 800}).mount();
  const texts = () => toasts.shown.map((t) => t.querySelector(".toast__text").textContent);
  const out = {};
  toasts.info("Bob joined the call.");
  toasts.error("The recording could not start.");
  const info = toasts.shown[0], error = toasts.shown[1];
  out.live = [info, error].map((t) => t.parentElement.getAttribute("aria-live"));
  out.roles = Array.from(root.querySelectorAll("[role]")).map((n) => n.getAttribute("role"));
  out.close = info.querySelector("button").getAttribute("aria-label");
  out.repeat = toasts.info("Bob joined the call.");  // the same again at once: not repeated
  out.empty = toasts.info("  ");
  toasts.info("<b>Carol</b> joined the call.");
  out.markup = root.querySelectorAll("b").length;
  for (const name of ["Dave", "Erin", "Frank"]) {
    toasts.info(name + " joined the call.");
  }
  out.capped = texts();  // at most 4: the oldest went
  const last = toasts.shown.at(-1).querySelector("button");
  last.focus();
  last.click();  // dismissed by its button: the focus goes to the next toast, not to nowhere
  out.afterClick = texts();
  out.focus = document.activeElement.getAttribute("aria-label");
  toasts.error("The snapshot could not be taken.");
  await new Promise((r) => setTimeout(r, 600));
  out.afterInfoTime = texts();  // the notices went by themselves; errors stay longer
  await new Promise((r) => setTimeout(r, 400));
  out.afterErrorTime = texts();
  // mirrored: the page's own alert line, as a toast too (shown, not announced twice)
  const line = document.createElement("p");
  line.setAttribute("role", "alert");
  line.hidden = true;
  root.append(line);
  toasts.mirror(line);
  line.textContent = "The audio and video connection failed.";
  line.hidden = false;
  await new Promise((r) => setTimeout(r, 50));
  out.mirrored = texts();
  out.mirroredLive = toasts.shown[0].parentElement.getAttribute("aria-live");
  line.hidden = true;
  line.textContent = "";
  await new Promise((r) => setTimeout(r, 50));
  out.cleared = texts();  // an error line emptied: no toast
  return out;
}"""


async def test_toasts_are_live_dismissable_capped_and_go_by_themselves(
    browser: Browser, live_server: LiveServer
) -> None:
    page = await module_page(browser, live_server)
    out = await page.evaluate(TOASTS)
    assert out["live"] == ["polite", "assertive"]
    assert out["roles"] == []  # no second role=status/alert beside the page's own
    assert out["close"] == "Dismiss: Bob joined the call."
    assert out["repeat"] is None
    assert out["empty"] is None
    assert out["markup"] == 0
    assert out["capped"] == [
        "<b>Carol</b> joined the call.",
        "Dave joined the call.",
        "Erin joined the call.",
        "Frank joined the call.",
    ]
    assert out["afterClick"] == out["capped"][:3]
    assert out["focus"] == "Dismiss: Erin joined the call."
    assert out["afterInfoTime"] == ["The snapshot could not be taken."]
    assert out["afterErrorTime"] == []
    assert out["mirrored"] == ["The audio and video connection failed."]
    assert out["mirroredLive"] is None
    assert out["cleared"] == ["The audio and video connection failed."]
    assert page.problems == []  # type: ignore[attr-defined]


MARKS = """async () => {
  const marks = await import("/static/meeting/marks.js");
  const news = await import("/static/meeting/news.js");
  const podium = marks.podiumState({src: ["a", "b", "c"], vsrc: [0, -1, 2], psrc: 2});
  const status = {
    presenterCid: podium.presenter, presenterUserId: "u-d", cameraOff: podium.cameraOff,
    micMuted: true,
  };
  const people = [
    {key: "a", userId: "u-a", you: true, speaking: true},
    {key: "b", userId: "u-b", you: false, speaking: false},
    {key: "c", userId: "u-c", you: false, speaking: true},
    {key: "d", userId: "u-d", you: false, speaking: false},
  ];
  const texts = people.map((p) => marks.marksFor(p, status).map((m) => m.text));
  const list = document.createElement("ul");
  for (const p of people) {
    const li = document.createElement("li");
    li.dataset.member = p.key;
    li.textContent = p.key;
    list.append(li);
  }
  marks.decorate(list, people, status);
  return {
    cameraOff: Array.from(podium.cameraOff), presenter: podium.presenter,
    nobody: marks.podiumState({src: ["a"], vsrc: [0], psrc: -1}).presenter,
    texts, shown: Array.from(list.children).map((li) => li.textContent),
    recording: [
      news.recordingNews(null, "recording"), news.recordingNews("off", "recording"),
      news.recordingNews("recording", "paused"), news.recordingNews("paused", "recording"),
      news.recordingNews("recording", "off"), news.recordingNews("off", "off"),
    ],
    broadcast: [
      news.broadcastNews(null, true), news.broadcastNews(false, true),
      news.broadcastNews(true, false),
    ],
  };
}"""


async def test_people_markers_and_meeting_news(browser: Browser, live_server: LiveServer) -> None:
    page = await module_page(browser, live_server)
    out = await page.evaluate(MARKS)
    assert out["cameraOff"] == ["b"]
    assert out["presenter"] == "c"
    assert out["nobody"] == ""
    assert out["texts"] == [
        ["speaking", "microphone off"],  # ours: the only microphone the page knows of
        ["camera off"],
        ["presenting", "speaking"],  # presenting by the layout (psrc)
        ["presenting"],  # presenting by presentation_update (user id)
    ]
    assert out["shown"] == [
        "a speaking microphone off",
        "b camera off",
        "c presenting speaking",
        "d presenting",
    ]
    assert out["recording"] == [
        "",
        "The meeting is being recorded.",
        "The recording is paused.",
        "The recording goes on.",
        "The recording has stopped.",
        "",
    ]
    assert out["broadcast"] == [
        "",
        "The meeting is being broadcast live.",
        "The live broadcast has stopped.",
    ]


# two real peer connections in the page, loopback: a canvas's video from one to the other,
# the indicator watching the receiving one; the canvas stops changing, so no frame comes
TWO_PEERS = """async () => {
  const m = await import("/static/meeting/connection.js");
  const canvas = document.createElement("canvas");
  canvas.width = 160;
  canvas.height = 120;
  const paint = canvas.getContext("2d");
  let painting = true, frame = 0;
  setInterval(() => {
    if (painting) {
      frame += 1;
      paint.fillStyle = frame % 2 ? "#246" : "#642";
      paint.fillRect(0, 0, 160, 120);
    }
  }, 50);
  window.__paint = (on) => { painting = on; };
  const track = canvas.captureStream().getVideoTracks()[0];
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const video = document.createElement("video");
  video.muted = true;
  b.ontrack = (e) => { video.srcObject = new MediaStream([e.track]); video.play(); };
  document.body.append(video);
  a.addTrack(track);
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  const root = document.createElement("div");
  root.dataset.part = "call";
  document.body.append(root);
  new m.ConnectionIndicator(root, () => ({ pc: b })).mount();
}"""


async def test_the_freeze_warning_shows_while_no_frame_comes_over_a_real_connection(
    browser: Browser, live_server: LiveServer
) -> None:
    page = await module_page(browser, live_server)
    await page.evaluate(TWO_PEERS)
    indicator = page.get_by_role("button", name=re.compile(r"^Connection: good\."))
    await expect(indicator).to_be_visible(timeout=10_000)
    fps = page.locator('[data-figure="Video"]')
    await expect(fps).not_to_have_text(re.compile(r"^0 "), timeout=5_000)
    warning = page.get_by_role("alert")
    await expect(warning).to_be_hidden()

    await page.evaluate("window.__paint(false)")
    await expect(warning).to_have_text(
        "The picture has frozen. Reconnecting may help: leave and join again.", timeout=5_000
    )
    await expect(
        page.get_by_role("button", name=re.compile(r"^Connection: poor\."))
    ).to_be_visible()
    await expect(fps).to_have_text("0 frames/s")

    await page.evaluate("window.__paint(true)")
    await expect(warning).to_be_hidden(timeout=5_000)
    await expect(indicator).to_be_visible()
    assert page.problems == []  # type: ignore[attr-defined]
