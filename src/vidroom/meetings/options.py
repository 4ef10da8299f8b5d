"""Meeting options: defaults, and reading them from the meeting API's ``options[...]``."""

from __future__ import annotations

import re
from typing import Any

from vidroom import errors
from vidroom.kit.params import ParamError, get_bool, get_dict, get_str

COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
DEFAULT_BACKGROUND = "#121212"

BOOL_DEFAULTS: dict[str, bool] = {
    "show_names": True,
    "show_label": True,
    "recording_available": True,
    "broadcast_available": True,
    "layout_available": True,
    "reaction_available": True,
    "guest_token_available": True,
    "suggest_guest_names": True,
    "lock_available": False,
    "kick_available": True,
    "voice_activation": False,
    "widescreen": False,
}
CHOICES: dict[str, tuple[str, ...]] = {
    "sfu_mode": ("ptp", "screencast", "disabled"),
    "layout": ("auto", "custom"),
    "audio_insert": ("audio_only", "enabled", "disabled"),
}
MAX_CUSTOM_FIELDS = 50
MAX_TEXT = 2000


def defaults() -> dict[str, Any]:
    return {
        **BOOL_DEFAULTS,
        "exit_url": None,
        "sfu_mode": "ptp",
        "layout": "auto",
        "layout_users": None,
        "layout_name": None,
        "layout_map": None,
        "audio_insert": "audio_only",
        "custom_fields": {},
        "background_color": DEFAULT_BACKGROUND,
    }


def _text(value: Any, name: str) -> str:
    if isinstance(value, bool | int | float):
        value = str(value).lower() if isinstance(value, bool) else str(value)
    if not isinstance(value, str):
        raise errors.invalid("invalid_parameter", f"options[custom_fields][{name}] must be text")
    if len(value) > MAX_TEXT:
        raise errors.invalid("invalid_parameter", f"options[custom_fields][{name}] is too long")
    return value


def from_params(params: dict[str, Any]) -> dict[str, Any]:
    """The options of a new meeting from request parameters (unknown options are ignored)."""
    result = defaults()
    try:
        for name in BOOL_DEFAULTS:
            value = get_bool(params, "options", name)
            if value is not None:
                result[name] = value
        for name, choices in CHOICES.items():
            value_text = get_str(params, "options", name)
            if value_text:
                if value_text not in choices:
                    allowed = ", ".join(choices)
                    raise errors.invalid(
                        "invalid_parameter", f"options[{name}] must be one of: {allowed}"
                    )
                result[name] = value_text
        color = get_str(params, "options", "background_color")
        if color and COLOR.fullmatch(color):
            result["background_color"] = color.lower()
        exit_url = get_str(params, "options", "exit_url")
        if exit_url:
            if len(exit_url) > MAX_TEXT or not exit_url.startswith(("https://", "http://")):
                raise errors.invalid(
                    "invalid_parameter", "options[exit_url] must be an http(s) URL"
                )
            result["exit_url"] = exit_url
        custom = get_dict(params, "options", "custom_fields") or {}
    except ParamError as exc:
        raise errors.invalid("invalid_parameter", str(exc)) from None
    if len(custom) > MAX_CUSTOM_FIELDS:
        raise errors.invalid("invalid_parameter", "too many options[custom_fields]")
    # custom fields are echoed as strings: the Android SDK reads them as a string map
    result["custom_fields"] = {
        str(k)[:100]: _text(v, str(k)) for k, v in custom.items() if not isinstance(v, dict | list)
    }
    return result


def merged(stored: dict[str, Any] | None) -> dict[str, Any]:
    """Stored options over today's defaults (options added later get their default)."""
    return {**defaults(), **(stored or {})}
