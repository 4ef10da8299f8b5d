"""A private nginx-rtmp ingest for tests: Debian's nginx with ``libnginx-mod-rtmp``, free ports on
127.0.0.1, optionally a TLS front (nginx ``stream``) for RTMPS, everything in a temp directory.

It records every published stream to ``<dir>/rec/<key>.flv`` (``record all``), which tests
probe with PyAV; :meth:`stop` / :meth:`start` restart it on the same ports.
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import time
from pathlib import Path

from tests.certs import self_signed

NGINX = "/usr/sbin/nginx"
MODULES = Path("/usr/lib/nginx/modules")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RtmpServer:
    def __init__(self, directory: Path, tls: bool = False) -> None:
        self.dir = directory
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.record_dir = directory / "rec"
        self.record_dir.mkdir(parents=True, exist_ok=True)
        (directory / "logs").mkdir(exist_ok=True)
        self.ca_file: Path | None = None
        stream = ""
        if tls:
            cert, key = self_signed(directory, "rtmps")
            self.ca_file = cert
            stream = (
                f"stream {{ server {{ listen 127.0.0.1:{self.tls_port} ssl; "
                f"ssl_certificate {cert}; ssl_certificate_key {key}; "
                f"proxy_pass 127.0.0.1:{self.port}; }} }}"
            )
        # as root, nginx's workers run as nobody: keep them as the test's user (files in tmp)
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        self.conf = directory / "nginx.conf"
        self.conf.write_text(
            f"load_module {MODULES}/ngx_rtmp_module.so;\n"
            f"load_module {MODULES}/ngx_stream_module.so;\n"
            f"{user}pid {directory}/nginx.pid;\nerror_log {directory}/logs/error.log info;\n"
            "worker_processes 1;\nevents { worker_connections 64; }\n"
            f"rtmp {{ server {{ listen 127.0.0.1:{self.port}; chunk_size 4096; "
            f"application live {{ live on; record all; record_path {self.record_dir}; "
            "record_unique off; } } }\n"
            f"{stream}\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, key: str = "key", tls: bool = False) -> str:
        if tls:
            return f"rtmps://127.0.0.1:{self.tls_port}/live/{key}"
        return f"rtmp://127.0.0.1:{self.port}/live/{key}"

    def recorded(self, key: str = "key") -> Path:
        return self.record_dir / f"{key}.flv"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.dir), "-c", str(self.conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.dir / "logs" / "error.log").read_text(errors="replace")
                raise RuntimeError(f"nginx exited: {log[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx-rtmp did not listen")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # fast shutdown: the master closes its workers' connections
            self.process.wait(timeout=5)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                    time.sleep(0.05)
                except OSError:
                    break
        self.process = None

    def __enter__(self) -> RtmpServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
