"""Screen share by renegotiation, the presenter layout, and video mute."""

from __future__ import annotations

from collections.abc import Callable

from aiortc import RTCSessionDescription

from tests.media.conftest import Client, Recorder, close_to, until
from tests.media.test_call import BLUE, GREEN, RED, centres, sees_everyone
from vidroom.media.supervisor import MediaSupervisor
from vidroom.media.testing import ColorVideoTrack

MakeClient = Callable[[str, tuple[int, int, int], float], Client]


async def test_screen_share_presenter_and_mute(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder
) -> None:
    a, b = clients("a", RED, 500), clients("b", GREEN, 900)
    await a.join(supervisor, "p")
    await b.join(supervisor, "p")
    assert await until(lambda: all(sees_everyone(c, supervisor, "p", [a, b]) for c in (a, b)), 5)

    # b adds a screen (a second video track) and renegotiates: its tile shows the screen
    screen = ColorVideoTrack(BLUE, size=(320, 240), fps=10)
    b.pc.addTrack(screen)
    answer = await supervisor.renegotiate("p", "b", await b.offer())
    await b.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    spots = centres(supervisor, "p")
    assert await until(lambda: close_to(a.color_at(*spots["c-b"]), BLUE), 5)

    # presenter: b's tile becomes the big one on top, a goes to the strip
    await supervisor.set_presenter("p", "b")
    members = supervisor.members("p")
    assert [(m.participant_id, m.presenting) for m in members] == [("b", True), ("a", False)]
    tiles = events.layouts[-1][2]
    assert tiles[0].client_id == "c-b"
    assert tiles[0].width == 1280
    assert tiles[0].height == 768
    big = centres(supervisor, "p")
    assert await until(lambda: close_to(a.color_at(*big["c-b"]), BLUE), 3)
    assert await until(lambda: close_to(a.color_at(*big["c-a"]), RED), 3)

    # video mute: a's tile turns dark (its name stays)
    await supervisor.set_video_muted("p", "a", True)
    assert [m.video_muted for m in supervisor.members("p")] == [False, True]
    assert await until(lambda: max(b.color_at(*big["c-a"])) < 60, 3)
    await supervisor.set_video_muted("p", "a", False)
    assert await until(lambda: close_to(b.color_at(*big["c-a"]), RED), 3)

    # back to the grid
    await supervisor.set_presenter("p", None)
    assert [t.width for t in events.layouts[-1][2]] == [640, 640]
    screen.stop()
