"""The meeting API as a participant uses it before media: a guest's access key, the room
response once the meeting is ready, and the ICE servers it offers."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from aiortc import RTCIceServer

Message = dict[str, Any]


class JoinError(Exception):
    """The meeting could not be joined: ``code`` is the HTTP status or SEPP ``reject_code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


async def guest_access_key(http: httpx.AsyncClient, guest_link: str | None, name: str) -> str:
    """Join as a guest (``POST /guests/<token>``) by guest link or bare token: the access key."""
    if not guest_link:
        raise ValueError("give an access key or a guest link")
    token = guest_link
    if "guest=" in guest_link:
        token = guest_link.split("guest=", 1)[1].split("&", 1)[0]
    response = await http.post(f"/guests/{token}", data={"name": name})
    if response.status_code != 201:
        raise JoinError(response.status_code, response.text[:200])
    key: str = response.json()["access_key"]
    return key


async def ready_room(http: httpx.AsyncClient, access_key: str) -> Message:
    """``GET /rooms/<access_key>`` until the meeting is ready (a fresh signalling token)."""
    delay = 0.05
    while True:
        response = await http.get(f"/rooms/{access_key}")
        if response.status_code != 200:
            raise JoinError(response.status_code, response.text[:200])
        room: Message = response.json()
        if room.get("ready"):
            return room
        await asyncio.sleep(delay)
        delay = min(1.0, delay * 2)


def room_ice_servers(room: dict[str, Any]) -> list[RTCIceServer]:
    """The ICE servers a room response offers: one STUN entry for every ``stun_servers`` URL
    and the ``turn_servers`` entries with their credentials (eyeson-sepp.md §2)."""
    options = room.get("signaling", {}).get("options", {})
    servers: list[RTCIceServer] = []
    stun = [u for u in options.get("stun_servers") or [] if isinstance(u, str)]
    if stun:
        servers.append(RTCIceServer(urls=stun))
    for entry in options.get("turn_servers") or []:
        if not isinstance(entry, dict):
            continue
        urls = entry.get("urls")
        urls = [urls] if isinstance(urls, str) else [u for u in urls or [] if isinstance(u, str)]
        if urls:
            servers.append(
                RTCIceServer(
                    urls=urls, username=entry.get("username"), credential=entry.get("password")
                )
            )
    return servers
