"""Configuration: every setting is a ``VIDROOM_*`` environment variable (or a .env entry)."""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

WEAK_SECRETS = frozenset(
    {"", "changethis", "change-me", "changeme", "secret", "password", "vidroom"}
)
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    """All of vidroom's settings. Build once (in the CLI or a test) and pass it down."""

    model_config = SettingsConfigDict(env_prefix="VIDROOM_", env_file=".env", extra="ignore")

    env: Environment = Environment.development
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    data_dir: Path = Path("./vidroom-data")
    database_url: str = ""
    public_url: str = ""
    secret_key: str = ""
    session_days: int = Field(default=14, ge=1, le=365)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["*"])
    log_level: str = "info"
    meeting_grace_seconds: float = Field(default=60.0, ge=0)
    presence_seconds: float = Field(default=45.0, gt=0)
    webhooks_allow_private: bool = False
    # webhook delivery: per-attempt deadline, lease of a claimed delivery, polling interval,
    # and the retry backoff (exponential with full jitter, retried for the whole horizon)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_lease_seconds: float = Field(default=60.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    webhook_retry_base_seconds: float = Field(default=2.0, gt=0)
    webhook_retry_cap_seconds: float = Field(default=600.0, gt=0)
    webhook_retry_horizon_seconds: float = Field(default=6 * 3600.0, ge=0)
    # meeting files (/rooms/<access_key>/files): largest upload, and the content types accepted
    # (VIDROOM_FILE_TYPES as a JSON array); the bytes are checked against the declared type
    max_file_bytes: int = Field(default=25_000_000, ge=1)
    file_types: list[str] = Field(
        default_factory=lambda: [
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "application/pdf",
            "text/plain",
            "text/csv",
            "audio/mpeg",
            "video/mp4",
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.spreadsheet",
            "application/vnd.oasis.opendocument.presentation",
        ]
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("VIDROOM_PUBLIC_URL must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _check_secret(self) -> Settings:
        if self.env is Environment.production:
            if self.secret_key.lower() in WEAK_SECRETS or len(self.secret_key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    "VIDROOM_SECRET_KEY must be set to a random value of at least "
                    f"{MIN_SECRET_LENGTH} characters in production"
                )
            if not self.public_url:
                raise ValueError("VIDROOM_PUBLIC_URL must be set in production")
        elif self.secret_key and self.secret_key.lower() in WEAK_SECRETS:
            raise ValueError("VIDROOM_SECRET_KEY is a well-known weak value; choose a random one")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'vidroom.db').resolve()}"

    @property
    def base_url(self) -> str:
        """The URL put into links (invite links, join links)."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    def ensure_secret_key(self) -> str:
        """The secret key: the configured one, else one generated once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            key = path.read_text().strip()
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            path.touch(mode=0o600)
            path.write_text(key)
        self.secret_key = key
        return key
