"""Configuration: defaults, parsing, and refusing weak secrets outside development."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from vidroom.settings import Environment, Settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["ENV", "DATABASE_URL", "DATA_DIR", "PUBLIC_URL", "HOST", "PORT", "SECRET_KEY"]
    for name in [*names, "CORS_ORIGINS"]:
        monkeypatch.delenv(f"VIDROOM_{name}", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.env is Environment.development
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.data_dir == Path("vidroom-data")
    assert settings.base_url == "http://127.0.0.1:8080"
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.effective_database_url.endswith("vidroom-data/vidroom.db")
    assert settings.cors_origins == ["*"]


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDROOM_PORT", "9000")
    monkeypatch.setenv("VIDROOM_PUBLIC_URL", "https://meet.example.com/")
    monkeypatch.setenv("VIDROOM_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("VIDROOM_DATABASE_URL", "postgresql+asyncpg://u:p@db/vidroom")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.port == 9000
    assert settings.base_url == "https://meet.example.com"
    assert settings.secure_cookies
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.effective_database_url == "postgresql+asyncpg://u:p@db/vidroom"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"env": "production", "secret_key": "", "public_url": "https://x.example"},
        {"env": "production", "secret_key": "changethis", "public_url": "https://x.example"},
        {"env": "production", "secret_key": "short-but-random", "public_url": "https://x.example"},
        {"env": "production", "secret_key": "k" * 40},
        {"env": "development", "secret_key": "changethis"},
        {"port": 0},
        {"public_url": "ftp://x"},
    ],
)
def test_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **kwargs)  # type: ignore[call-arg]


def test_generated_secret_is_kept_private(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "d")  # type: ignore[call-arg]
    key = settings.ensure_secret_key()
    assert len(key) >= 32
    path = tmp_path / "d" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Settings(_env_file=None, data_dir=tmp_path / "d")  # type: ignore[call-arg]
    assert again.ensure_secret_key() == key


# --- ICE servers (STUN/TURN) and built-in HTTPS ------------------------------------------------

ICE_NAMES = [
    "STUN_SERVERS",
    "TURN_SERVERS",
    "TURN_SECRET",
    "TURN_TTL_SECONDS",
    "TLS_CERT",
    "TLS_KEY",
]


@pytest.fixture
def no_ice_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*ICE_NAMES, "PUBLIC_URL", "HOST", "PORT"]:
        monkeypatch.delenv(f"VIDROOM_{name}", raising=False)


def refusal(**kwargs: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, **kwargs)  # type: ignore[call-arg]
    return str(caught.value)


@pytest.mark.usefixtures("no_ice_env")
def test_ice_and_tls_defaults() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.stun_servers == []
    assert settings.turn_servers == []
    assert settings.turn_secret is None
    assert settings.turn_ttl_seconds == 86400
    assert settings.tls_cert is None
    assert settings.tls_key is None
    assert not settings.tls


@pytest.mark.usefixtures("no_ice_env")
def test_ice_servers_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDROOM_STUN_SERVERS", "stun:stun.example.com:3478, stun:[2001:db8::1]")
    monkeypatch.setenv(
        "VIDROOM_TURN_SERVERS",
        "turn:turn.example.com:3478?transport=udp,turn:turn.example.com?transport=tcp,"
        "turns:turn.example.com:5349",
    )
    monkeypatch.setenv("VIDROOM_TURN_SECRET", "coturn-static-auth-secret-0123456789")
    monkeypatch.setenv("VIDROOM_TURN_TTL_SECONDS", "3600")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.stun_servers == ["stun:stun.example.com:3478", "stun:[2001:db8::1]"]
    assert settings.turn_servers == [
        "turn:turn.example.com:3478?transport=udp",
        "turn:turn.example.com?transport=tcp",
        "turns:turn.example.com:5349",
    ]
    assert settings.turn_secret is not None
    assert settings.turn_secret.get_secret_value() == "coturn-static-auth-secret-0123456789"
    assert "coturn-static-auth-secret" not in repr(settings)
    assert settings.turn_ttl_seconds == 3600


@pytest.mark.usefixtures("no_ice_env")
def test_turn_servers_need_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "VIDROOM_TURN_SECRET must be set" in refusal(turn_servers=["turn:t.example"])
    assert "VIDROOM_TURN_SECRET must be set" in refusal(
        turn_servers=["turn:t.example"], turn_secret="  "
    )
    assert "weak" in refusal(turn_servers=["turn:t.example"], turn_secret="secret")
    monkeypatch.setenv("VIDROOM_TURN_SERVERS", "turn:t.example")
    monkeypatch.setenv("VIDROOM_TURN_SECRET", "")
    with pytest.raises(ValidationError, match="VIDROOM_TURN_SECRET must be set"):
        Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stun_servers": ["http://stun.example"]}, "is not a stun URL"),
        ({"stun_servers": ["turn:t.example"]}, "is not a stun URL"),
        ({"stun_servers": ["stuns:stun.example"]}, "is not a stun URL"),
        ({"stun_servers": ["stun:"]}, "is not a stun URL"),
        ({"stun_servers": ["stun:s.example?transport=udp"]}, "transport"),
        ({"stun_servers": ["stun:s.example:70000"]}, "port outside"),
        ({"stun_servers": ["stun:a.example stun:b.example"]}, "whitespace or control"),
        ({"stun_servers": ["stun:a.example\x00"]}, "whitespace or control"),
        ({"stun_servers": "stun:a.example\n,stun:b\tc"}, "whitespace or control"),
        ({"turn_servers": ["stun:s.example"], "turn_secret": "x" * 32}, "turn/turns URL"),
        ({"turn_servers": ["javascript:alert(1)"], "turn_secret": "x" * 32}, "turn/turns URL"),
        ({"turn_servers": ["turn:t.example?transport=sctp"], "turn_secret": "x" * 32}, "URL"),
        ({"turn_servers": ["turns:t.example?transport=udp"], "turn_secret": "x" * 32}, "transport"),
        ({"turn_servers": ["turn:user@t.example"], "turn_secret": "x" * 32}, "turn/turns URL"),
        ({"turn_servers": ["turn:t.example\r\n"], "turn_secret": "x" * 32}, "control"),
        ({"turn_ttl_seconds": 59}, "greater than or equal to 60"),
        ({"turn_ttl_seconds": 7 * 86400 + 1}, "less than or equal to 604800"),
    ],
)
@pytest.mark.usefixtures("no_ice_env")
def test_bad_ice_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    assert message in refusal(**kwargs)


@pytest.mark.usefixtures("no_ice_env")
def test_tls_settings(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    assert "must be set together" in refusal(tls_cert=cert)
    assert "must be set together" in refusal(tls_key=key)
    assert f"VIDROOM_TLS_CERT: no such file: {cert}" in refusal(tls_cert=cert, tls_key=key)
    cert.write_text("certificate")
    assert f"VIDROOM_TLS_KEY: no such file: {key}" in refusal(tls_cert=cert, tls_key=key)
    assert "no such file" in refusal(tls_cert=cert, tls_key=tmp_path)  # a folder is no file
    key.write_text("key")
    settings = Settings(_env_file=None, tls_cert=cert, tls_key=key, port=8443)  # type: ignore[call-arg]
    assert settings.tls
    assert settings.base_url == "https://127.0.0.1:8443"
    assert settings.secure_cookies
    # an explicit public URL still wins (e.g. a proxy or another name in front)
    behind = Settings(  # type: ignore[call-arg]
        _env_file=None, tls_cert=cert, tls_key=key, public_url="https://meet.example.com"
    )
    assert behind.base_url == "https://meet.example.com"
    # empty environment values mean "not set"
    assert not Settings(_env_file=None, tls_cert="", tls_key="").tls  # type: ignore[call-arg]


def test_media_worker_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MEDIA_WORKERS", "MEDIA_HOST_ADDRESSES", "MEDIA_HEARTBEAT_SECONDS"):
        monkeypatch.delenv(f"VIDROOM_{name}", raising=False)
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert defaults.media_workers is None  # one per core
    assert defaults.media_host_addresses == []
    assert defaults.media_heartbeat_seconds == 10.0
    monkeypatch.setenv("VIDROOM_MEDIA_WORKERS", "0")
    monkeypatch.setenv("VIDROOM_MEDIA_HOST_ADDRESSES", "127.0.0.1, ::1")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.media_workers == 0
    assert settings.media_host_addresses == ["127.0.0.1", "::1"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"media_workers": -1}, "media_workers"),
        ({"media_workers": "many"}, "media_workers"),
        ({"media_host_addresses": "eth0"}, "is not an IP address"),
        ({"media_host_addresses": "127.0.0.1,example.com"}, "is not an IP address"),
        ({"media_heartbeat_seconds": 0}, "media_heartbeat_seconds"),
    ],
)
def test_bad_media_worker_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, **kwargs)  # type: ignore[call-arg]


@pytest.mark.usefixtures("no_ice_env")
def test_broadcast_ca_file(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    assert f"VIDROOM_BROADCAST_CA_FILE: no such file: {ca}" in refusal(broadcast_ca_file=ca)
    ca.write_text("certificates")
    settings = Settings(_env_file=None, broadcast_ca_file=ca)
    assert settings.broadcast_ca_file == ca
    assert Settings(_env_file=None, broadcast_ca_file="").broadcast_ca_file is None
