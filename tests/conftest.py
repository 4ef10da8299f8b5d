"""Shared fixtures: real databases (SQLite, and PostgreSQL when configured), the app, clients,
and a real running server.

PostgreSQL: set VIDROOM_TEST_POSTGRES_URL (``.ci/run`` does) to run every database test on it as
well. VIDROOM_TEST_REQUIRE_ALL=1 (set by CI) turns "not available here" skips into failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from vidroom.accounts import service as accounts
from vidroom.app import build_state, create_app
from vidroom.db.engine import close_engine, create_engine
from vidroom.db.migrate import upgrade
from vidroom.db.models import Base
from vidroom.settings import Settings
from vidroom.state import AppState

POSTGRES_URL = os.environ.get("VIDROOM_TEST_POSTGRES_URL", "")
REQUIRE_ALL = os.environ.get("VIDROOM_TEST_REQUIRE_ALL", "") == "1"
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def unavailable(reason: str) -> None:
    """Skip a test whose real dependency is missing here; in CI that is a failure."""
    if REQUIRE_ALL:
        pytest.fail(f"required test dependency missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "vidroom.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test session's own (created from VIDROOM_TEST_POSTGRES_URL,
    dropped at the end), migrated once."""
    if not POSTGRES_URL:
        unavailable("VIDROOM_TEST_POSTGRES_URL is not set")
    server = make_url(POSTGRES_URL)
    name = f"{server.database}_{os.getpid()}_{secrets.token_hex(3)}"
    url = server.set(database=name).render_as_string(hide_password=False)

    async def admin(statement: str) -> None:
        engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(statement))
        await engine.dispose()

    async def migrate() -> None:
        await admin(f'CREATE DATABASE "{name}"')
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    try:
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} CASCADE"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "vidroom.db"
        shutil.copy(template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate(url))
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        public_url="http://testserver",
        secret_key=SECRET,
        # one media worker process (the default is one per core), offering 127.0.0.1 only
        media_workers=1,
        media_host_addresses=["127.0.0.1"],
    )


@pytest.fixture
async def state(settings: Settings) -> AsyncIterator[AppState]:
    built = await build_state(settings, migrate=False)
    try:
        yield built
    finally:
        await close_engine(built.engine)


@pytest.fixture
async def client(settings: Settings, state: AppState) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, state)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def new_token(state: AppState, email: str) -> str:
    """A developer token for ``email`` (the account is created if needed)."""
    async with state.db.uow() as uow:
        user = await accounts.get_or_create_user(uow.session, email)
        _, token = await accounts.create_developer_token(uow.session, user)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- a real server in a subprocess -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """``vidroom serve`` in a child process on a loopback port."""

    env: dict[str, str]
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "vidroom", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers run."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def cli(self, *args: str) -> str:
        """Run a ``vidroom`` CLI command against this server's configuration; its stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "vidroom", *args],
            env=self.env,
            capture_output=True,
            check=True,
            timeout=60,
        )
        return done.stdout.decode()


@pytest.fixture
def live_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    port = free_port()
    env = {
        **os.environ,
        "VIDROOM_ENV": "test",
        "VIDROOM_DATA_DIR": str(tmp_path / "live-data"),
        "VIDROOM_DATABASE_URL": database_url,
        "VIDROOM_HOST": "127.0.0.1",
        "VIDROOM_PORT": str(port),
        "VIDROOM_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "VIDROOM_SECRET_KEY": SECRET,
        "VIDROOM_LOG_LEVEL": "warning",
        "VIDROOM_MEDIA_WORKERS": "1",
    }
    server = LiveServer(env=env, port=port, log_path=tmp_path / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_database_fixture_is_real(database_url: str) -> None:
    """Guard: the parametrised backends are what they claim to be."""
    assert database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://"))


# --- media tests: leave no task behind -------------------------------------------------------
#
# aiortc's RTCRtpSender.stop() waits for its RTP task to have *started*; a task cancelled before
# it ran never sets that event, so a close that begins in a task's ``finally`` after the loop
# runner's single cancellation round can wait forever and hang pytest-asyncio's loop teardown.
# For the media suites, the loop is settled first: leftover tasks are cancelled in rounds (a
# second round interrupts whatever a ``finally`` went on to await) until none is left.

SETTLED_DIRS = ("tests/media/", "tests/client/", "tests/api/eyeson/sepp/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    import inspect

    for item in items:
        function = getattr(item, "function", None)
        path = str(getattr(item, "path", ""))
        if (
            function is not None
            and inspect.iscoroutinefunction(function)
            and any(part in path for part in SETTLED_DIRS)
            and isinstance(item, pytest.Function)
        ):
            item.fixturenames.insert(0, "_settled_loop")  # set up first: torn down last


@pytest.fixture
async def _settled_loop() -> AsyncIterator[None]:
    yield
    current = asyncio.current_task()
    for _ in range(10):
        left = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        if not left:
            break
        for task in left:
            task.cancel()
        await asyncio.wait(left, timeout=1.0)
    await _close_sqlite_connections()


async def _close_sqlite_connections() -> None:
    """A task cancelled in the middle of an aiosqlite call leaves the call running in the
    connection's worker thread (waiting on a SQLite lock, say), which then reports to a closed
    loop: a thread exception pinned on a later test. Closing every connection still open
    here waits, in this loop, for the calls already queued on it."""
    import gc

    import aiosqlite

    # type(), not isinstance(): gc also yields dead weak proxies, which raise on __class__
    for connection in [o for o in gc.get_objects() if type(o) is aiosqlite.Connection]:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connection.close(), 10)
