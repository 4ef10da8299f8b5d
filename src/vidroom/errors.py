"""Domain errors: a kind (what went wrong, dialect-neutral) and a stable code.

Each API dialect maps the kind to its own status code and error envelope.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    invalid = "invalid"
    unauthenticated = "unauthenticated"
    forbidden = "forbidden"
    not_found = "not_found"
    conflict = "conflict"
    gone = "gone"
    locked = "locked"
    not_allowed = "not_allowed"
    not_acceptable = "not_acceptable"  # the meeting API's 406: e.g. already broadcasting
    too_large = "too_large"
    unsupported = "unsupported"
    unavailable = "unavailable"


class VidroomError(Exception):
    """An expected failure. Never a 500."""

    def __init__(self, kind: ErrorKind, code: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"VidroomError({self.kind.value!r}, {self.code!r}, {self.message!r})"


def invalid(code: str, message: str) -> VidroomError:
    return VidroomError(ErrorKind.invalid, code, message)


def unauthenticated(code: str, message: str) -> VidroomError:
    return VidroomError(ErrorKind.unauthenticated, code, message)


def forbidden(code: str, message: str) -> VidroomError:
    return VidroomError(ErrorKind.forbidden, code, message)


def not_found(code: str, message: str) -> VidroomError:
    return VidroomError(ErrorKind.not_found, code, message)


def not_acceptable(code: str, message: str) -> VidroomError:
    return VidroomError(ErrorKind.not_acceptable, code, message)


def conflict(code: str, message: str) -> VidroomError:
    return VidroomError(ErrorKind.conflict, code, message)
