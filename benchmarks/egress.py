"""What recording and broadcasting cost the media server: one meeting of N Python participants
with nothing, a recording, a broadcast, and both, side by side in one run.

    python benchmarks/egress.py [-n 4] [--seconds 10] [--warmup 5] [--rounds 2] [--no-pin]

Each row starts the media server alone (benchmarks/media_server.py, one media worker, as
``vidroom serve`` runs a meeting) and N participants in another process
(benchmarks/media_clients.py: 640x360@15 H.264 + an Opus tone each). ``recording`` writes the
composite to a fragmented MP4 in a temporary folder; ``broadcast`` pushes it as FLV over RTMP to
a private nginx with Debian's ``libnginx-mod-rtmp`` started here on 127.0.0.1 (it only relays:
``live on``, no recording, no transcoding). Neither encodes video again: both reuse the room's
H.264 packets, and one AAC encode of the full mix serves both; the target is that both together
add under 10 % to the server's CPU.

The server and its worker are pinned to core 0 and the clients and nginx to core 1 (taskset),
so the load generator never takes the server's core. The rows run in rounds (none, recording,
broadcast, both, then again) so that drift of a noisy machine spreads over every mode; the
ratios are of the medians. The clients' CPU (their process tree) and nginx's CPU are shown so
that one can see they are far from saturating their core.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
MODES = ("none", "recording", "broadcast", "both")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads) from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree(pid: int) -> list[int]:
    """The process and its descendants."""
    found = [pid]
    for child in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(child.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.extend(tree(int(child.parent.name)))
    return found


class Nginx:
    """A private nginx-rtmp relay (``live on``) on a free port, in its own folder."""

    def __init__(self, folder: Path, pin: list[str]) -> None:
        self.folder = folder
        self.port = free_port()
        (folder / "logs").mkdir(parents=True, exist_ok=True)
        conf = folder / "nginx.conf"
        conf.write_text(
            f"load_module {RTMP_MODULE};\n"
            f"pid {folder}/nginx.pid;\nerror_log {folder}/logs/error.log warn;\n"
            "worker_processes 1;\nevents { worker_connections 64; }\n"
            f"rtmp {{ server {{ listen 127.0.0.1:{self.port}; chunk_size 4096;\n"
            "  application live { live on; record off; } } }\n"
        )
        self.process = subprocess.Popen(
            [*pin, NGINX, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise SystemExit("nginx-rtmp did not start (is libnginx-mod-rtmp installed?)")

    @property
    def url(self) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live"

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in tree(self.process.pid))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_once(mode: str, args: argparse.Namespace, nginx: Nginx, folder: Path) -> dict[str, Any]:
    port = free_port()
    pinned = args.pin and len(os.sched_getaffinity(0)) >= 2
    server_cpus = ["taskset", "-c", "0"] if pinned else []
    client_cpus = ["taskset", "-c", "1"] if pinned else []
    command = [
        *server_cpus, sys.executable, str(HERE / "media_server.py"), "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip
    if mode in ("recording", "both"):
        command += ["--record", str(folder)]
    if mode in ("broadcast", "both"):
        command += ["--broadcast", nginx.url]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        nginx0 = nginx.cpu()
        clients = [
            *client_cpus, sys.executable, str(HERE / "media_clients.py"), "--url", base,
            "--server-pid", str(server.pid), "-n", str(args.n), "--warmup", str(args.warmup),
            "--seconds", str(args.seconds), "--watchers", str(args.n),
        ]  # fmt: skip
        budget = 60 + args.warmup + args.seconds
        done = subprocess.run(clients, capture_output=True, text=True, timeout=budget)
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1][:160]}
        result: dict[str, Any] = json.loads(lines[-1])
        # nginx's CPU over the whole client run (warm-up included), as a rate
        result["nginx_cpu_pct"] = (nginx.cpu() - nginx0) / (args.warmup + args.seconds) * 100
        stats = httpx.get(f"{base}/stats").json()
        result["broadcasts"] = stats.get("broadcasts", {})
        result["egress"] = [room.get("egress", {}) for room in stats.get("rooms", [])]
        return result
    except subprocess.TimeoutExpired:
        return {"error": "clients timed out"}
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=4, help="participants in the meeting")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    args = parser.parse_args()
    pin = ["taskset", "-c", "1"] if args.pin and len(os.sched_getaffinity(0)) >= 2 else []
    began = time.monotonic()
    results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="vidroom-egress-") as tmp:
        nginx = Nginx(Path(tmp) / "nginx", pin)
        try:
            for _ in range(args.rounds):
                for mode in MODES:
                    folder = Path(tmp) / f"rec-{mode}-{time.monotonic_ns()}"
                    folder.mkdir()
                    result = run_once(mode, args, nginx, folder)
                    result["bytes"] = sum(f.stat().st_size for f in folder.glob("*.mp4"))
                    results[mode].append(result)
        finally:
            nginx.stop()

    print(
        f"vidroom egress: one meeting of {args.n} participants (640x360@15 H.264 + Opus each),"
        f" composite 1280x960@15; {args.warmup:.0f} s warm-up, {args.seconds:.0f} s window;"
        f" {args.rounds} round(s) of each mode, medians; CPU % of one core"
    )
    head = (
        f"{'mode':<11}{'server CPU %':>14}{'vs none':>9}{'min fps':>9}{'clients CPU %':>15}"
        f"{'nginx CPU %':>13}{'file MB':>9}  notes"
    )
    print(head)
    baseline: float | None = None
    for mode in MODES:
        ok = [r for r in results[mode] if "error" not in r]
        if not ok:
            errors = "; ".join(r["error"] for r in results[mode])
            print(f"{mode:<11}  failed: {errors}")
            continue
        server = statistics.median(r["server_cpu_s"] / r["window_s"] * 100 for r in ok)
        clients = statistics.median(r["clients_cpu_s"] / r["window_s"] * 100 for r in ok)
        nginx_cpu = statistics.median(r["nginx_cpu_pct"] for r in ok)
        fps = min(min(r["fps"]) for r in ok)
        size = statistics.median(r["bytes"] for r in ok) / 1e6
        if mode == "none":
            baseline = server
        ratio = f"{server / baseline:.3f}" if baseline else "-"
        notes = []
        states = {s for r in ok for s in r.get("broadcasts", {}).values()}
        if states:
            notes.append("broadcast " + ",".join(sorted(states)))
        if fps < 14:
            notes.append("below 15 fps: saturated")
        if len(ok) < len(results[mode]):
            notes.append(f"{len(results[mode]) - len(ok)} run(s) failed")
        print(
            f"{mode:<11}{server:>14.1f}{ratio:>9}{fps:>9.1f}{clients:>15.1f}{nginx_cpu:>13.1f}"
            f"{size:>9.2f}  {'; '.join(notes)}"
        )
    print(f"\n(total {time.monotonic() - began:.0f} s) vs none = server CPU / server CPU with no")
    print("egress, same run; clients = the participants' process (their core); nginx = the RTMP")
    print("relay (clients' core); file MB = the recording's size after the run")


if __name__ == "__main__":
    main()
