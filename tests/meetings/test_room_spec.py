"""What the media server is told of a meeting's look and layout (``meetings.layout.room_spec``)."""

from __future__ import annotations

from typing import Any

import pytest

from vidroom.meetings.layout import room_spec
from vidroom.meetings.models import Meeting


@pytest.mark.parametrize(
    ("options", "insert", "position"),
    [
        ({}, "audio_only", None),
        (
            {"audio_insert": "enabled", "audio_insert_position": {"x": 40, "y": 8}},
            "enabled",
            [40, 8],
        ),
        ({"audio_insert": "disabled"}, "disabled", None),
        # what no validation let through is ignored, never passed on
        (
            {"audio_insert": "loud", "audio_insert_position": {"x": "1", "y": True}},
            "audio_only",
            None,
        ),
        ({"audio_insert_position": [1, 2]}, "audio_only", None),
    ],
)
async def test_the_audio_insert_reaches_the_media_server(
    options: dict[str, Any], insert: str, position: list[int] | None
) -> None:
    meeting = Meeting(id="m", options=options)
    spec = await room_spec(None, meeting)  # type: ignore[arg-type]  # no users: no query
    assert spec.audio_insert == insert
    assert spec.audio_insert_position == position
