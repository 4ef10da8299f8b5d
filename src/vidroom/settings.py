"""Configuration: every setting is a ``VIDROOM_*`` environment variable (or a .env entry)."""

from __future__ import annotations

import ipaddress
import re
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

WEAK_SECRETS = frozenset(
    {"", "changethis", "change-me", "changeme", "secret", "password", "vidroom"}
)
MIN_SECRET_LENGTH = 32
# ICE server URLs (RFC 7064 / RFC 7065) as browsers and aiortc take them: a host name, IPv4 address
# or bracketed IPv6 address, an optional port, and for TURN an optional transport (turns: is TLS
# over TCP only)
ICE_URL = re.compile(
    r"(?P<scheme>stun|turns?):"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>\d{1,5}))?"
    r"(?:\?transport=(?P<transport>udp|tcp))?"
)
MIN_TURN_TTL_SECONDS = 60
MAX_TURN_TTL_SECONDS = 7 * 86400


def _url_list(value: object) -> object:
    """A comma-separated environment value as a list (a list is taken as it is)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check_urls(urls: list[str], schemes: tuple[str, ...], name: str) -> list[str]:
    example = f"{schemes[0]}:host:3478"
    for url in urls:
        if any(ch.isspace() or not ch.isprintable() for ch in url):
            raise ValueError(f"{name}: {url!r} contains whitespace or control characters")
        match = ICE_URL.fullmatch(url)
        if match is None or match["scheme"] not in schemes:
            raise ValueError(f"{name}: {url!r} is not a {'/'.join(schemes)} URL (e.g. {example})")
        if match["port"] is not None and not 1 <= int(match["port"]) <= 65535:
            raise ValueError(f"{name}: {url!r} has a port outside 1..65535")
        if match["transport"] and (
            match["scheme"] == "stun"
            or (match["scheme"] == "turns" and match["transport"] != "tcp")
        ):
            raise ValueError(f"{name}: {url!r} has a transport its scheme does not take")
    return urls


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
    # every outbound connection the server makes (webhooks, RTMP broadcasts, layer and
    # playback URLs) may reach private and loopback addresses; VIDROOM_WEBHOOKS_ALLOW_PRIVATE
    # still allows it for webhooks alone
    outbound_allow_private: bool = False
    # recordings and snapshots are deleted this many days after they were made
    retention_days: float = Field(default=14.0, gt=0, le=3650)
    # broadcasts: connect deadline, reconnect backoff, and when to give up without a connection
    broadcast_connect_seconds: float = Field(default=10.0, gt=0, le=120)
    broadcast_give_up_seconds: float = Field(default=120.0, gt=0, le=3600)
    # RTMPS ingests' certificates are always verified: against these CA certificates (PEM)
    # when set, else the system's trust store
    broadcast_ca_file: Path | None = None
    # webhook delivery: per-attempt deadline, lease of a claimed delivery, polling interval,
    # and the retry backoff (exponential with full jitter, retried for the whole horizon)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_lease_seconds: float = Field(default=60.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    webhook_retry_base_seconds: float = Field(default=2.0, gt=0)
    webhook_retry_cap_seconds: float = Field(default=600.0, gt=0)
    webhook_retry_horizon_seconds: float = Field(default=6 * 3600.0, ge=0)
    # playbacks (POST /rooms/<access_key>/playbacks): the largest media file fetched
    playback_max_bytes: int = Field(default=500_000_000, ge=1)
    # meeting files (/rooms/<access_key>/files): largest upload, and the content types accepted
    # (VIDROOM_FILE_TYPES as a JSON array); the bytes are checked against the declared type
    max_file_bytes: int = Field(default=25_000_000, ge=1)
    slides_max_pages: int = Field(default=200, ge=1, le=5000)  # a PDF with more pages fails
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
    # ICE servers handed to participants (signaling.options) and used by the media server:
    # comma-separated stun: URLs; turn:/turns: URLs of a TURN server (coturn) that checks
    # credentials minted with its shared secret (use-auth-secret / static-auth-secret), valid
    # for turn_ttl_seconds
    stun_servers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    turn_servers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    turn_secret: SecretStr | None = None
    turn_ttl_seconds: int = Field(default=86400, ge=MIN_TURN_TTL_SECONDS, le=MAX_TURN_TTL_SECONDS)
    # media worker processes (each owns whole rooms); None: one per core; 0: media runs in
    # the API process (for debugging)
    media_workers: int | None = Field(default=None, ge=0, le=256)
    # the addresses the media server offers as ICE host candidates (comma-separated); empty:
    # every interface's. 127.0.0.1 for a server reached over loopback only (tests)
    media_host_addresses: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # a media worker that sends no report for this long is killed and replaced
    media_heartbeat_seconds: float = Field(default=10.0, ge=1.0, le=300.0)
    # built-in HTTPS: a PEM certificate (chain) and its unencrypted PEM private key
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("media_host_addresses", mode="before")
    @classmethod
    def _split_addresses(cls, value: object) -> object:
        return _url_list(value)

    @field_validator("media_host_addresses")
    @classmethod
    def _check_addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(
                    f"VIDROOM_MEDIA_HOST_ADDRESSES: {address!r} is not an IP address"
                ) from None
        return value

    @field_validator("stun_servers", "turn_servers", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        return _url_list(value)

    @field_validator("stun_servers")
    @classmethod
    def _check_stun(cls, value: list[str]) -> list[str]:
        return _check_urls(value, ("stun",), "VIDROOM_STUN_SERVERS")

    @field_validator("turn_servers")
    @classmethod
    def _check_turn(cls, value: list[str]) -> list[str]:
        return _check_urls(value, ("turn", "turns"), "VIDROOM_TURN_SERVERS")

    @field_validator("turn_secret", "tls_cert", "tls_key", "broadcast_ca_file", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
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
        self._check_turn_secret()
        self._check_tls()
        return self

    def _check_turn_secret(self) -> None:
        secret = self.turn_secret.get_secret_value() if self.turn_secret else ""
        if self.turn_servers and not secret:
            raise ValueError(
                "VIDROOM_TURN_SECRET must be set when VIDROOM_TURN_SERVERS is: the TURN server's "
                "static-auth-secret (coturn use-auth-secret)"
            )
        if secret and secret.lower() in WEAK_SECRETS:
            raise ValueError("VIDROOM_TURN_SECRET is a well-known weak value; choose a random one")

    def _check_tls(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("VIDROOM_TLS_CERT and VIDROOM_TLS_KEY must be set together")
        for name, path in (
            ("VIDROOM_TLS_CERT", self.tls_cert),
            ("VIDROOM_TLS_KEY", self.tls_key),
            ("VIDROOM_BROADCAST_CA_FILE", self.broadcast_ca_file),
        ):
            if path is not None and not path.is_file():
                raise ValueError(f"{name}: no such file: {path}")

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
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}"

    @property
    def tls(self) -> bool:
        """Whether ``vidroom serve`` itself speaks HTTPS (VIDROOM_TLS_CERT/KEY)."""
        return self.tls_cert is not None and self.tls_key is not None

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def media_dir(self) -> Path:
        """Recordings and snapshots (``recordings/``, ``snapshots/`` beneath)."""
        return self.data_dir / "media"

    @property
    def webhooks_may_reach_private(self) -> bool:
        return self.webhooks_allow_private or self.outbound_allow_private

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
