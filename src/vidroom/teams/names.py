"""Name rules for teams and rooms (the team API's domains and rooms)."""

from __future__ import annotations

import re

from vidroom import errors

NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
MAX_TEAM_AND_ROOM = 35
MAX_TEAM_NAME = MAX_TEAM_AND_ROOM - 1

# First path segments that the server itself uses: a team of that name would shadow a route.
RESERVED_TEAM_NAMES = frozenset(
    [
        "admin",
        "api",
        "app",
        "call",
        "dashboard",
        "docs",
        "domains",
        "downloads",
        "files",
        "guests",
        "health",
        "healthz",
        "invite",
        "join",
        "login",
        "logout",
        "metrics",
        "openapi",
        "permalink",
        "recordings",
        "redoc",
        "rooms",
        "rt",
        "settings",
        "sig",
        "signup",
        "snapshots",
        "static",
        "teams",
        "tokens",
        "webhooks",
        "www",
    ]
)


def check_team_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise errors.invalid("team_name_required", "a team name is required")
    if not NAME_PATTERN.fullmatch(name):
        raise errors.invalid(
            "team_name_invalid",
            "team names may contain only letters, digits, '-' and '_'",
        )
    if len(name) > MAX_TEAM_NAME:
        raise errors.invalid(
            "team_name_too_long", f"team names have at most {MAX_TEAM_NAME} characters"
        )
    if name.lower() in RESERVED_TEAM_NAMES:
        raise errors.conflict("team_name_reserved", f"the team name '{name}' is reserved")
    return name


def check_room_name(team_name: str, name: object) -> str:
    if not isinstance(name, str) or not name:
        raise errors.invalid("room_name_required", "a room name is required")
    if not NAME_PATTERN.fullmatch(name):
        raise errors.invalid(
            "room_name_invalid",
            "room names may contain only letters, digits, '-' and '_'",
        )
    if len(team_name) + len(name) > MAX_TEAM_AND_ROOM:
        raise errors.invalid(
            "room_name_too_long",
            f"the team name and room name together have at most {MAX_TEAM_AND_ROOM} characters",
        )
    return name
