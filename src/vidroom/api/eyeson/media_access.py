"""The media server as the meeting API's routes reach it (the one the SEPP hub drives)."""

from __future__ import annotations

from fastapi import Request

from vidroom import errors
from vidroom.media.contract import MediaControl, MediaError


def media_of(request: Request) -> MediaControl:
    """503 when this server runs no media server."""
    hub = getattr(request.app.state, "sepp", None)
    media = getattr(hub, "media", None)
    if media is None:
        raise errors.VidroomError(
            errors.ErrorKind.unavailable, "media_unavailable", "the media server is not running"
        )
    result: MediaControl = media
    return result


def refused(exc: MediaError, what: str) -> errors.VidroomError:
    """A media refusal in the meeting API's terms: no room (nobody in the call) or a conflict
    → 406; anything else → 503."""
    if exc.code == 404:
        return errors.not_acceptable("nobody_in_call", f"nobody is in the call yet: no {what}")
    if exc.code == 409:
        return errors.not_acceptable("media_conflict", exc.reason[:200])
    return errors.VidroomError(
        errors.ErrorKind.unavailable, "media_unavailable", f"the media server refused the {what}"
    )
