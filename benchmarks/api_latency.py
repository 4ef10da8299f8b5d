"""Requests per second and p50/p99 latency of the meeting API under a real load generator,
beside the same server's bare health endpoint measured in the same run.

    python benchmarks/api_latency.py [--seconds 10] [--connections 50] [--threads 2]
                                     [--database-url postgresql+asyncpg://...] [--routes ...]
                                     [--meeting 16]

Needs ``wrk`` (Debian package ``wrk``; CI installs it). The benchmark starts ``vidroom serve``
in a subprocess on a free 127.0.0.1 port with a throwaway data directory (SQLite there, or the
database of ``--database-url``), creates a team and an API key with the CLI, starts a meeting
with ``POST /rooms``, and then runs wrk (50 connections, 2 threads, ``--seconds`` per route)
against, one after the other:

* ``GET /health``: the bare baseline (no database);
* ``GET /rooms/<access_key>``: the room response a participant polls;
* ``GET /rooms/<access_key>/users/<id>``: one participant;
* ``POST /rooms``: a real join of the running meeting (API key, form body; 90 user ids in
  turn, so each request joins as a known participant and gets a new access key);
* ``POST /rooms/<access_key>/messages``: a chat message delivered to the meeting.

For each route it prints requests per second, the ratio to ``/health`` (the project's target is
at least 0.5), wrk's p50 and p99 latency (target: p99 below 50 ms), answers >= 400 and socket
errors, and the CPU time that wrk used next to the CPU time of the server process over the same
window (as a share of one core), so a reader can see that the load generator was not the
bottleneck.

Then, with ``--meeting N`` (default 16; 0 skips it), the same routes again while a meeting of N
participants runs on the same server (benchmarks/meeting_load.py in a child process: cheap
participants joined through the meeting API and SEPP, sending video and audio and receiving
the composite), and the ratio of each route's p99 during the meeting to its idle p99 (target:
at most 2x). The server's media runs in its media workers, so ``srv CPU`` (the API process)
shows what the meeting costs the control plane; the meeting's own figures (the workers' CPU,
the participants' received fps and the load generator's CPU) are printed beside it.
Everything runs on loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

CLK_TCK = os.sysconf("SC_CLK_TCK")
MARK = "VIDROOM-WRK "

# wrk calls done() once in its main Lua state with the merged statistics of all threads;
# latencies are in microseconds, the duration too; errors.status counts answers >= 400.
DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "errors": %d, '
    .. '"socket_errors": %d}\\n',
    "MARK", summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    # a Lua expression for the body of each request (evaluated per request); None: no body
    body_lua: str | None = None


@dataclass(frozen=True)
class Result:
    route: Route
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int  # answers >= 400
    socket_errors: int
    wrk_cpu: float  # seconds of CPU wrk used
    server_cpu: float  # seconds of CPU the server used over the same window

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def wrk_script(route: Route) -> str:
    lines = [f"wrk.method = {lua_string(route.method)}"]
    for name, value in route.headers.items():
        lines.append(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
    if route.body_lua is not None:
        lines += [
            "local n = 0",
            "request = function()",
            "  n = n + 1",
            f"  return wrk.format(nil, nil, nil, {route.body_lua})",
            "end",
        ]
    return "\n".join(lines) + "\n" + DONE.replace('"MARK"', lua_string(MARK))


def process_cpu(pid: int) -> float:
    """User plus system CPU seconds of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    wrk: str, base: str, route: Route, args: argparse.Namespace, server_pid: int, scripts: Path
) -> Result:
    script = scripts / f"{route.name.replace('/', '_').replace(' ', '_')}.lua"
    script.write_text(wrk_script(route))
    command = [
        wrk,
        f"--connections={args.connections}",
        f"--threads={args.threads}",
        f"--duration={args.seconds}s",
        "--timeout=10s",
        f"--script={script}",
        base + route.path,
    ]
    wrk_before, server_before = children_cpu(), process_cpu(server_pid)
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.seconds + 60)
    wrk_after, server_after = children_cpu(), process_cpu(server_pid)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed on {route.name}: {done.stderr.strip()}")
    line = next((x for x in done.stdout.splitlines() if x.startswith(MARK)), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary for {route.name}:\n{done.stdout}")
    stats = json.loads(line[len(MARK) :])
    return Result(
        route=route,
        requests=int(stats["requests"]),
        seconds=stats["duration_us"] / 1e6,
        p50_ms=stats["p50_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        failed=int(stats["errors"]),
        socket_errors=int(stats["socket_errors"]),
        wrk_cpu=wrk_after - wrk_before,
        server_cpu=server_after - server_before,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "vidroom", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"vidroom {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"vidroom serve exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("vidroom serve did not answer /health within 60 s")


def routes(base: str, api_key: str, room: str) -> list[Route]:
    """Start the meeting and build the measured routes around its first participant."""
    auth = {"Authorization": api_key}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    first = httpx.post(
        f"{base}/rooms", data={"id": room, "user[name]": "host", "user[id]": "host"}, headers=auth
    )
    first.raise_for_status()
    access_key = first.json()["access_key"]
    join_prefix = urlencode({"id": room}) + "&"
    join_body = (
        f'"{join_prefix}user%5Bname%5D=user-" .. (n % 90) .. "&user%5Bid%5D=user-" .. (n % 90)'
    )
    message = lua_string(urlencode({"type": "chat", "content": "hello from wrk"}))
    return [
        Route("GET /health", "GET", "/health", {}),
        Route("GET /rooms/<ak>", "GET", f"/rooms/{access_key}", {}),
        Route("GET /rooms/<ak>/users/<id>", "GET", f"/rooms/{access_key}/users/host", {}),
        Route("POST /rooms (join)", "POST", "/rooms", {**auth, **form}, join_body),
        Route("POST /rooms/<ak>/messages", "POST", f"/rooms/{access_key}/messages", form, message),
    ]


def report(results: list[Result], args: argparse.Namespace, database: str) -> None:
    health = next((r.rps for r in results if r.route.path == "/health"), 0.0)
    print(
        f"wrk: {args.connections} connections, {args.threads} threads, {args.seconds} s per route;"
        f" one `vidroom serve` process; database: {database}"
    )
    print(
        f"{'route':<28}{'req/s':>8}{'/health':>9}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'>=400':>8}{'sock err':>9}{'wrk CPU':>9}{'srv CPU':>9}"
    )
    for r in results:
        ratio = r.rps / health if health else float("nan")
        print(
            f"{r.route.name:<28}{r.rps:>8.0f}{ratio:>9.2f}{r.p50_ms:>8.1f}{r.p99_ms:>8.1f}"
            f"{r.failed:>8}{r.socket_errors:>9}"
            f"{r.wrk_cpu / r.seconds:>8.0%} {r.server_cpu / r.seconds:>8.0%}"
        )
    print("CPU as a share of one core over each route's window (wrk: all its threads).")


HERE = Path(__file__).resolve().parent


def start_meeting(base: str, api_key: str, n: int) -> subprocess.Popen[str]:
    """benchmarks/meeting_load.py with ``n`` participants; returns once they all receive."""
    load = subprocess.Popen(
        [
            sys.executable, str(HERE / "meeting_load.py"), "--url", base, "--api-key", api_key,
            "-n", str(n), "--seconds", "3600",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert load.stdout is not None
    line = load.stdout.readline().strip()
    if line != "ready":
        load.kill()
        raise SystemExit(f"the meeting did not start: {line or load.wait()}")
    return load


@dataclass
class Meeting:
    fps: list[float]  # each participant's received composite rate
    clients_cpu: float  # the participants' process, share of one core
    workers_cpu: float = 0.0  # the server's media workers, share of one core


def stop_meeting(load: subprocess.Popen[str]) -> Meeting:
    load.terminate()
    out, _ = load.communicate(timeout=60)
    lines = out.strip().splitlines()
    found = json.loads(lines[-1]) if lines else {}
    window = float(found.get("window_s") or 1.0)
    return Meeting([float(x) for x in found.get("fps", [])], float(found.get("cpu_s", 0)) / window)


def worker_cpu(base: str) -> float:
    """The media workers' CPU seconds so far (/metrics)."""
    total = 0.0
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        if line.startswith("vidroom_media_worker_cpu_seconds_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def compare(idle: list[Result], busy: list[Result]) -> None:
    print("during the meeting vs idle (same run):")
    for a, b in zip(idle, busy, strict=True):
        ratio = b.p99_ms / a.p99_ms if a.p99_ms else float("nan")
        print(
            f"  {a.route.name:<28} p99 {a.p99_ms:7.1f} -> {b.p99_ms:7.1f} ms ({ratio:4.2f}x),"
            f" {a.rps:6.0f} -> {b.rps:6.0f} req/s"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per route")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--database-url", default="", help="e.g. postgresql+asyncpg://... (default: SQLite)"
    )
    parser.add_argument(
        "--routes",
        default="",
        help="comma-separated substrings of route names to run (default: all; /health always)",
    )
    parser.add_argument("--wrk", default="wrk", help="the wrk binary")
    parser.add_argument(
        "--meeting", type=int, default=16, help="participants of the meeting run (0: none)"
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    wrk = shutil.which(args.wrk)
    if wrk is None:
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    data = Path(tempfile.mkdtemp(prefix="vidroom-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "VIDROOM_DATA_DIR": str(data),
        "VIDROOM_HOST": "127.0.0.1",
        "VIDROOM_PORT": str(port),
        "VIDROOM_LOG_LEVEL": "warning",
        "VIDROOM_MEDIA_HOST_ADDRESSES": "127.0.0.1",  # the meeting's media on loopback only
    }
    if args.database_url:
        env["VIDROOM_DATABASE_URL"] = args.database_url
    else:
        env.pop("VIDROOM_DATABASE_URL", None)
    team = f"bench-{uuid.uuid4().hex[:8]}"  # a shared PostgreSQL keeps earlier runs' teams
    cli(env, "teams", "create", team, "--owner", f"{team}@example.com")
    api_key = cli(env, "apikeys", "create", "--team", team).splitlines()[-1]
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "vidroom", "serve"], env=env, stdout=subprocess.DEVNULL
    )
    try:
        wait_healthy(base, server)
        print(f"server pid {server.pid} on {base}", file=sys.stderr)
        wanted = [w.strip() for w in args.routes.split(",") if w.strip()]
        chosen = [
            r
            for r in routes(base, api_key, team)
            if r.path == "/health" or not wanted or any(w in r.name for w in wanted)
        ]
        busy: list[Result] = []
        meeting = Meeting([], 0.0)
        with tempfile.TemporaryDirectory(prefix="vidroom-wrk-") as scripts:
            results = [run_wrk(wrk, base, r, args, server.pid, Path(scripts)) for r in chosen]
            if args.meeting:
                load = start_meeting(base, api_key, args.meeting)
                try:
                    workers0, t0 = worker_cpu(base), time.monotonic()
                    busy = [run_wrk(wrk, base, r, args, server.pid, Path(scripts)) for r in chosen]
                    workers1, t1 = worker_cpu(base), time.monotonic()
                finally:
                    meeting = stop_meeting(load)
                meeting.workers_cpu = (workers1 - workers0) / (t1 - t0)
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(data, ignore_errors=True)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print("idle:")
    report(results, args, database)
    if busy:
        fps = meeting.fps
        print(
            f"\nwhile a meeting of {args.meeting} runs (media workers at"
            f" {meeting.workers_cpu:.0%} of a core; participants received"
            f" {min(fps, default=0):.1f}-{max(fps, default=0):.1f} fps; the participants'"
            f" process used {meeting.clients_cpu:.0%} of a core):"
        )
        report(busy, args, database)
        compare(results, busy)


if __name__ == "__main__":
    main()
