"""Requests per second and p50/p99 latency of the meeting API against a running server, beside
the same server's bare health endpoint measured in the same run (ratios: machines are noisy).

    python benchmarks/api_latency.py [--clients 50] [--seconds 5]

Starts `vidroom serve` on a loopback port with a throwaway SQLite data directory (or uses
VIDROOM_DATABASE_URL if set), mints an API key with the CLI, and drives it with httpx.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def drive(
    name: str,
    clients: int,
    seconds: float,
    call: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    base: str,
) -> Result:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await call(http)
                latencies.append(time.perf_counter() - started)
                if response.status_code >= 400:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return Result(name, len(latencies), elapsed, latencies, errors)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    data = tempfile.mkdtemp(prefix="vidroom-bench-")
    port = free_port()
    env = {
        **os.environ,
        "VIDROOM_DATA_DIR": data,
        "VIDROOM_PORT": str(port),
        "VIDROOM_LOG_LEVEL": "warning",
        "VIDROOM_ENV": "test",
    }
    base = f"http://127.0.0.1:{port}"
    cli = [sys.executable, "-m", "vidroom"]
    subprocess.run([*cli, "teams", "create", "bench", "--owner", "b@example.com"], env=env,
                   check=True, capture_output=True)  # fmt: skip
    key = subprocess.run([*cli, "apikeys", "create", "--team", "bench"], env=env, check=True,
                         capture_output=True, text=True).stdout.splitlines()[-1]  # fmt: skip
    server = subprocess.Popen([*cli, "serve"], env=env, stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        results = asyncio.run(measure(base, key, args.clients, args.seconds))
    finally:
        server.terminate()
        server.wait(10)
    health = statistics.mean([results[0].rps, results[-1].rps])
    print(f"{args.clients} concurrent clients, {args.seconds:.0f} s each, one server process")
    print(f"{'endpoint':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'rps/health':>12}")
    for r in results:
        print(f"{r.name:<22}{r.rps:>9.0f}{r.pct(0.5):>9.1f}{r.pct(0.99):>9.1f}{r.errors:>8}"
              f"{r.rps / health:>12.2f}")  # fmt: skip


async def measure(base: str, key: str, clients: int, seconds: float) -> list[Result]:
    auth = {"Authorization": key}
    async with httpx.AsyncClient(base_url=base) as http:
        first = await http.post("/rooms", data={"id": "bench", "user[name]": "host"}, headers=auth)
        access_key = first.json()["access_key"]
    counter = iter(range(10**9))

    async def join(http: httpx.AsyncClient) -> httpx.Response:
        # the same user ids come back: a join of a known participant (no new rows)
        user = f"user-{next(counter) % 90}"
        return await http.post(
            "/rooms", data={"id": "bench", "user[name]": user, "user[id]": user}, headers=auth
        )

    runs: list[tuple[str, Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]]] = [
        ("GET /health", lambda h: h.get("/health")),
        ("GET /rooms/<ak>", lambda h: h.get(f"/rooms/{access_key}")),
        ("POST /rooms (join)", join),
        ("GET /health (again)", lambda h: h.get("/health")),
    ]
    return [await drive(name, clients, seconds, call, base) for name, call in runs]


if __name__ == "__main__":
    main()
