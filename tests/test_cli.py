"""The ``vidroom`` command, run as a user would run it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET
from vidroom.accounts import service as accounts
from vidroom.app import build_state
from vidroom.settings import Settings
from vidroom.teams import service as teams


def run(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vidroom", *args],
        env=env,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "VIDROOM_ENV": "test",
        "VIDROOM_DATA_DIR": str(tmp_path / "cli-data"),
        "VIDROOM_DATABASE_URL": database_url,
        "VIDROOM_SECRET_KEY": SECRET,
        "VIDROOM_PUBLIC_URL": "https://meet.example.com",
    }


async def test_operator_commands(env: dict[str, str], database_url: str, tmp_path: Path) -> None:
    done = run(env, "migrate")
    assert done.returncode == 0, done.stderr

    done = run(env, "tokens", "create", "--email", "Boss@Example.com")
    assert done.returncode == 0, done.stderr
    token = done.stdout.splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9]{40}", token)
    assert token not in done.stderr

    done = run(env, "teams", "create", "acme", "--owner", "boss@example.com")
    assert done.returncode == 0, done.stderr
    assert "https://meet.example.com/invite?tk=" in done.stdout

    done = run(env, "apikeys", "create", "--team", "acme")
    assert done.returncode == 0, done.stderr
    key = done.stdout.splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9]{24}", key)

    done = run(env, "users", "set-password", "--email", "boss@example.com", "--password-stdin",
               stdin="correct horse battery\n")  # fmt: skip
    assert done.returncode == 0, done.stderr

    settings = Settings(env="test", data_dir=tmp_path / "check", database_url=database_url,
                        secret_key=SECRET)  # fmt: skip
    state = await build_state(settings, migrate=False)
    try:
        async with state.db.uow() as uow:
            user = await accounts.user_for_developer_token(uow.session, token)
            assert user.email == "boss@example.com"
            team, _ = await teams.team_for_api_key(uow.session, key)
            assert team.name == "acme"
            members = await teams.members(uow.session, team)
            assert [(m.role, u.email) for m, u in members] == [("owner", "boss@example.com")]
            logged_in = await accounts.log_in(
                uow.session, email="boss@example.com", password="correct horse battery"
            )
            assert logged_in.id == user.id
            # nothing secret is stored in plain text
            assert user.password_hash is not None
            assert "correct horse" not in user.password_hash
    finally:
        await state.engine.dispose()


def test_cli_errors_are_clear(env: dict[str, str]) -> None:
    done = run(env, "apikeys", "create", "--team", "ghost")
    assert done.returncode == 1
    assert "no team named 'ghost'" in done.stderr
    done = run(env, "teams", "create", "bad name", "--owner", "a@example.com")
    assert done.returncode == 1
    assert "letters, digits" in done.stderr
    done = run(env, "tokens", "create", "--email", "not-an-email")
    assert done.returncode == 1
    assert "invalid email" in done.stderr
    done = run(env, "users", "set-password", "--email", "a@example.com", "--password-stdin",
               stdin="short\n")  # fmt: skip
    assert done.returncode == 1
    assert "at least 8" in done.stderr


def test_production_refuses_weak_secrets(env: dict[str, str]) -> None:
    done = run({**env, "VIDROOM_ENV": "production", "VIDROOM_SECRET_KEY": "changethis"}, "migrate")
    assert done.returncode != 0
    assert "VIDROOM_SECRET_KEY" in done.stderr


def test_serve_runs_uvicorn_on_uvloop_and_httptools(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import uvicorn

    from vidroom import cli

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    monkeypatch.setenv("VIDROOM_DATA_DIR", str(tmp_path / "serve-data"))
    assert cli.main(["serve", "--port", "18999"]) == 0
    assert seen["loop"] == "uvloop"
    assert seen["http"] == "httptools"
    assert seen["port"] == 18999
