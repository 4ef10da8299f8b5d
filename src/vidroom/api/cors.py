"""CORS for the meeting API only: browser apps call it from their own origins, as they do the
hosted service. The dashboard and the team API are not opened to other origins."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

MEETING_API_PREFIXES = ("/rooms", "/guests", "/webhooks", "/recordings", "/snapshots", "/permalink")


class MeetingApiCORS:
    def __init__(self, app: ASGIApp, *, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["*"],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(MEETING_API_PREFIXES):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
