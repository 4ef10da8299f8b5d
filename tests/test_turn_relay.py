"""vidroom's TURN credentials against a real coturn (Debian package ``coturn``) on 127.0.0.1:
what vidroom mints is accepted (aiortc gathers a ``relay`` candidate and a relay-only peer
connects through it), and a wrong, tampered or expired credential is refused."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceTransportPolicy,
    RTCPeerConnection,
)

from tests.conftest import unavailable
from vidroom.api.eyeson.sepp.wiring import media_ice_servers
from vidroom.api.eyeson.shapes import ice_options
from vidroom.kit import turn
from vidroom.media.supervisor import IceServerInput, ice_server
from vidroom.media.testing import loopback_ice
from vidroom.meetings.models import Participant
from vidroom.settings import Settings

SECRET = "coturn-static-auth-secret-" + secrets.token_hex(8)
REALM = "vidroom.test"
TIMEOUT = 15.0


def free_udp_and_tcp_port() -> int:
    for _ in range(50):
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port: int = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


def stun_answers(port: int) -> bool:
    """Whether a STUN Binding request to 127.0.0.1:port gets a success response."""
    transaction = os.urandom(12)
    request = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + transaction
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        sock.sendto(request, ("127.0.0.1", port))
        try:
            data, _ = sock.recvfrom(2048)
        except OSError:
            return False
    return data[:2] == b"\x01\x01" and data[8:20] == transaction


@dataclass
class Coturn:
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def settings(self, secret: str = SECRET, **overrides: object) -> Settings:
        return Settings(  # type: ignore[call-arg]
            _env_file=None,
            turn_servers=[self.url],
            turn_secret=secret,
            turn_ttl_seconds=600,
            **overrides,
        )


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Coturn]:
    binary = shutil.which("turnserver")
    if binary is None:
        unavailable("coturn's turnserver is not installed (apt-get install coturn)")
        raise AssertionError  # unreachable: unavailable() skips or fails
    port = free_udp_and_tcp_port()
    log_path = tmp_path / "turnserver.log"
    command = [
        binary,
        "-n",  # no configuration file: only these options
        "--listening-ip=127.0.0.1",
        "--relay-ip=127.0.0.1",
        f"--listening-port={port}",
        "--use-auth-secret",
        f"--static-auth-secret={SECRET}",
        f"--realm={REALM}",
        "--allow-loopback-peers",  # the peers of these tests are on 127.0.0.1
        "--no-cli",
        "--no-tls",
        "--no-dtls",
        "--no-tcp-relay",
        "--log-file=stdout",
        "--simple-log",
        f"--pidfile={tmp_path / 'turnserver.pid'}",
        f"--userdb={tmp_path / 'turndb'}",
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not stun_answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"turnserver did not start:\n{log_path.read_text()}")
        yield Coturn(port, log_path, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def configuration(
    servers: list[IceServerInput], policy: RTCIceTransportPolicy = RTCIceTransportPolicy.ALL
) -> RTCConfiguration:
    return RTCConfiguration(iceServers=[ice_server(s) for s in servers], iceTransportPolicy=policy)


async def gathered(servers: list[IceServerInput]) -> list[str]:
    """The candidate lines of an offer made with only ``servers`` (host candidates on
    127.0.0.1 only)."""
    pc = RTCPeerConnection(configuration(servers))
    try:
        pc.createDataChannel("probe")
        with loopback_ice():
            async with asyncio.timeout(TIMEOUT):
                await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        return [line for line in sdp.splitlines() if line.startswith("a=candidate:")]
    finally:
        await pc.close()


def relays(candidates: list[str]) -> list[str]:
    return [line for line in candidates if " typ relay" in line]


async def test_minted_credentials_gather_a_relay_candidate(coturn: Coturn) -> None:
    settings = coturn.settings()
    # a participant's, exactly as the room response hands it out (password, not credential)
    options = ice_options(settings, Participant(client_id=secrets.token_hex(12)))
    assert options["stun_servers"] == []
    [entry] = options["turn_servers"]
    participant = relays(await gathered([entry]))
    assert len(participant) == 1
    assert " 127.0.0.1 " in participant[0]
    # the media server's own long-lived credential
    media = relays(await gathered(list(media_ice_servers(settings))))
    assert len(media) == 1


async def test_refused_credentials_gather_none(coturn: Coturn) -> None:
    settings = coturn.settings()
    [good] = turn.ice_servers(settings, "alice")
    assert good.username is not None
    wrong = coturn.settings(secret="another-secret-" + secrets.token_hex(8))
    [expiry, label] = good.username.split(":")
    expired_at = time.time() - 1200  # minted 20 minutes ago with a 10-minute lifetime
    refused: list[IceServerInput] = [
        # minted with another secret
        turn.ice_servers(wrong, "alice")[0],
        # the right password with another name (label or expiry changed after minting)
        turn.IceServer(good.urls, f"{expiry}:mallory", good.credential),
        turn.IceServer(good.urls, f"{int(expiry) + 86400}:{label}", good.credential),
        # correctly minted, but expired
        turn.ice_servers(settings, "alice", now=expired_at)[0],
    ]
    for server in refused:
        candidates = await gathered([server])
        assert candidates, "the host candidate is still there"
        assert relays(candidates) == [], server
    # and the good one still works against the same server
    assert len(relays(await gathered([good]))) == 1


async def test_a_relay_only_peer_connects_through_coturn(coturn: Coturn) -> None:
    """The participant may use nothing but the relay (as behind a strict NAT); the other end
    uses the media server's ICE servers. A data-channel message crosses."""
    settings = coturn.settings()
    participant_servers = ice_options(settings, Participant(client_id=secrets.token_hex(12)))
    caller = RTCPeerConnection(
        configuration(participant_servers["turn_servers"], RTCIceTransportPolicy.RELAY)
    )
    callee = RTCPeerConnection(configuration(list(media_ice_servers(settings))))
    received: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    @callee.on("datachannel")
    def on_channel(channel: RTCDataChannel) -> None:
        @channel.on("message")
        def on_message(message: object) -> None:
            if not received.done():
                received.set_result(str(message))

    try:
        channel = caller.createDataChannel("chat")
        opened = asyncio.get_running_loop().create_future()
        channel.on("open", lambda: opened.done() or opened.set_result(None))
        with loopback_ice():
            async with asyncio.timeout(TIMEOUT):
                await caller.setLocalDescription(await caller.createOffer())
                offer = caller.localDescription.sdp
                candidates = [x for x in offer.splitlines() if x.startswith("a=candidate:")]
                assert candidates
                assert all(" typ relay" in x for x in candidates), candidates
                await callee.setRemoteDescription(caller.localDescription)
                await callee.setLocalDescription(await callee.createAnswer())
                await caller.setRemoteDescription(callee.localDescription)
                await opened
                channel.send("through the relay")
                assert await received == "through the relay"
    finally:
        await caller.close()
        await callee.close()
