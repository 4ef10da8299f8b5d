"""Request and response bodies of the team API (documented in OpenAPI)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

PrivacyValue = Literal["public", "org", "private"]
TimeValue = StrictInt | StrictFloat | StrictStr


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ClaimRequest(_Lenient):
    domain: StrictStr | None = Field(default=None, description="the team name")
    name: StrictStr | None = Field(default=None, description="accepted as a synonym of domain")


class RoomCreateRequest(_Lenient):
    name: StrictStr = Field(description="letters, digits, '-' and '_'; team + room <= 35")
    privacy: PrivacyValue | None = Field(default=None, description="default 'org'")


class PrivacyRequest(_Lenient):
    privacy: PrivacyValue


class MeetingsRequest(_Lenient):
    start: TimeValue | None = Field(default=None, description="unix seconds or ISO-8601")
    end: TimeValue | None = Field(default=None, description="unix seconds or ISO-8601")
    room: StrictStr | None = None


class RoomInfo(BaseModel):
    name: str
    dialInPIN: str = Field(pattern=r"^\d{6}$")
    privacy: PrivacyValue
    url: str = Field(description="the room's meeting page")


class UserInfo(BaseModel):
    email: str
    role: Literal["owner", "member"]
    name: str | None = None
    avatarSrc: str | None = None


class TeamInfo(BaseModel):
    name: str
    teamInviteLink: str
    rooms: list[RoomInfo]
    users: dict[str, UserInfo]


class Updated(BaseModel):
    updated: bool


class Deleted(BaseModel):
    deleted: bool


class Participant(BaseModel):
    email: str = Field(description="the participant's email, or 'guest'")
    mtgJoin: str
    mtgLeave: str | None


class MeetingInfo(BaseModel):
    domain: str
    room: str
    mtgStart: str
    mtgEnd: str | None
    participants: list[Participant]


class MeetingsInfo(BaseModel):
    meetings: list[MeetingInfo]
    moreResults: bool


class ErrorBody(BaseModel):
    message: str
    code: str


class ErrorInfo(BaseModel):
    error: ErrorBody
