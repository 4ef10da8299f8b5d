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
