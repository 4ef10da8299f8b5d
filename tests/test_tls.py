"""Built-in HTTPS: ``vidroom serve`` with VIDROOM_TLS_CERT/KEY, as a real process on 127.0.0.1
with a self-signed certificate made here; links and the signalling endpoint become https/wss,
and both websockets (``/rt`` and ``/call``) work over TLS."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.certs import self_signed
from tests.conftest import SECRET, free_port
from vidroom.accounts import service as accounts
from vidroom.app import build_state
from vidroom.settings import Settings
from vidroom.teams import service as teams

TIMEOUT = 10.0
TURN_SECRET = "coturn-static-auth-secret-0123456789"


@dataclass
class TlsServer:
    """``vidroom serve`` with built-in HTTPS in a child process."""

    env: dict[str, str]
    port: int
    cert: Path
    log_path: Path
    api_key: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def trust(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def start(self, timeout: float = 30.0) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "vidroom", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        trust = self.trust
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", verify=trust, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start in time:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


async def make_api_key(env: dict[str, str]) -> str:
    """A team and a meeting-API key in the server's database (migrated here)."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        data_dir=Path(env["VIDROOM_DATA_DIR"]),
        database_url=env["VIDROOM_DATABASE_URL"],
        secret_key=SECRET,
    )
    state = await build_state(settings)
    try:
        async with state.db.uow() as uow:
            owner = await accounts.get_or_create_user(uow.session, "owner@acme.example.com")
            team = await teams.claim(uow.session, owner, "acme")
            _, key = await teams.create_api_key(uow.session, team, None)
    finally:
        await state.engine.dispose()
    return key


def server_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("VIDROOM_") or name.startswith("VIDROOM_TEST_")
    }
    return {
        **env,
        "VIDROOM_ENV": "test",
        "VIDROOM_DATA_DIR": str(tmp_path / "tls-data"),
        "VIDROOM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'tls.db'}",
        "VIDROOM_HOST": "127.0.0.1",
        "VIDROOM_PORT": str(port),
        "VIDROOM_SECRET_KEY": SECRET,
        "VIDROOM_LOG_LEVEL": "warning",
    }


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TlsServer]:
    port = free_port()
    cert, key = self_signed(tmp_path)
    env = {
        **server_env(tmp_path, port),
        # no VIDROOM_PUBLIC_URL: the base URL follows from the certificate being set
        "VIDROOM_TLS_CERT": str(cert),
        "VIDROOM_TLS_KEY": str(key),
        # ICE servers from the environment, as an operator sets them (no peer joins here, so
        # nothing is sent to them)
        "VIDROOM_STUN_SERVERS": "stun:127.0.0.1:3478, stun:127.0.0.2:3478",
        "VIDROOM_TURN_SERVERS": "turn:127.0.0.1:3478?transport=udp",
        "VIDROOM_TURN_SECRET": TURN_SECRET,
        "VIDROOM_TURN_TTL_SECONDS": "300",
    }
    server = TlsServer(env=env, port=port, cert=cert, log_path=tmp_path / "server.log")
    server.api_key = asyncio.run(make_api_key(env))
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def ready_room(http: httpx.AsyncClient, access_key: str) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT):
        while True:
            room: dict[str, Any] = (await http.get(f"/rooms/{access_key}")).json()
            if room["ready"]:
                return room
            await asyncio.sleep(0.05)


async def test_https_links_and_secure_websockets(tls_server: TlsServer) -> None:
    api_key = tls_server.api_key
    base = tls_server.url
    trust = tls_server.trust
    async with httpx.AsyncClient(base_url=base, verify=trust, timeout=TIMEOUT) as http:
        assert (await http.get("/health")).status_code == 200
        created = await http.post(
            "/rooms", data={"id": "r1", "user[name]": "Alice"}, headers={"Authorization": api_key}
        )
        assert created.status_code == 201, created.text
        room = created.json()
        access_key = room["access_key"]
        assert room["links"]["self"] == f"{base}/rooms/{access_key}"
        assert room["links"]["gui"] == f"{base}/join?{access_key}"
        assert room["links"]["websocket"] == f"{base}/rt?access_key={access_key}"
        options = room["signaling"]["options"]
        assert options["endpoint"] == f"wss://127.0.0.1:{tls_server.port}/call"
        assert options["stun_servers"] == ["stun:127.0.0.1:3478", "stun:127.0.0.2:3478"]
        [relay] = options["turn_servers"]
        assert relay["urls"] == ["turn:127.0.0.1:3478?transport=udp"]
        assert relay["username"].endswith(f":{options['client_id']}")
        assert abs(int(relay["username"].split(":")[0]) - (time.time() + 300)) < 30
        # the meeting page is served over https too
        page = await http.get(f"/join?{access_key}")
        assert page.status_code == 200

        # /rt over wss: the participant's socket joins the room channel
        rt_url = room["links"]["websocket"].replace("https://", "wss://", 1)
        async with connect(
            rt_url, ssl=trust, subprotocols=["actioncable-v1-json"], open_timeout=TIMEOUT
        ) as rt:
            async with asyncio.timeout(TIMEOUT):
                assert json.loads(await rt.recv()) == {"type": "welcome"}

        # /call over wss: the SEPP socket answers (a frame that is no call_start is refused)
        ready = (await ready_room(http, access_key))["signaling"]["options"]
        async with connect(
            f"{ready['endpoint']}?auth_token={ready['auth_token']}", ssl=trust, open_timeout=TIMEOUT
        ) as call:
            await call.send("not json")
            async with asyncio.timeout(TIMEOUT):
                answer = json.loads(await call.recv())
            assert answer["type"] == "call_rejected"
            assert answer["data"] == {"reject_code": 400}

    # plain HTTP on the TLS port is not served; an untrusted certificate is refused
    async with httpx.AsyncClient(timeout=2) as plain:
        with pytest.raises(httpx.HTTPError):
            await plain.get(f"http://127.0.0.1:{tls_server.port}/health")
        with pytest.raises(httpx.ConnectError):
            await plain.get(f"{base}/health")


def run_serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vidroom", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_refuses_bad_tls_settings(tmp_path: Path) -> None:
    env = server_env(tmp_path, free_port())
    _, key = self_signed(tmp_path, "one")
    other_cert, _ = self_signed(tmp_path, "two")

    # a key that is not the certificate's: refused before serving, in one line
    done = run_serve({**env, "VIDROOM_TLS_CERT": str(other_cert), "VIDROOM_TLS_KEY": str(key)})
    assert done.returncode != 0
    assert "vidroom: configuration error: VIDROOM_TLS_CERT/VIDROOM_TLS_KEY" in done.stderr
    assert "Traceback" not in done.stderr

    # configuration errors in one line each, without echoing any secret (the refusals
    # themselves: tests/test_settings.py)
    done = run_serve(
        {
            **env,
            "VIDROOM_STUN_SERVERS": "http://x",
            "VIDROOM_TURN_SERVERS": "turn:127.0.0.1:3478",
            "VIDROOM_TURN_SECRET": TURN_SECRET,
        }
    )
    assert done.returncode != 0
    assert done.stderr.startswith("vidroom: configuration error: ")
    assert "VIDROOM_STUN_SERVERS: 'http://x' is not a stun URL" in done.stderr
    assert "Traceback" not in done.stderr
    assert TURN_SECRET not in done.stderr + done.stdout
    assert SECRET not in done.stderr + done.stdout
