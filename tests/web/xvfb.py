"""A virtual X screen (Debian's Xvfb) for browser tests that need a real display, such as
screen capture: headless browsers have no screen to share."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import unavailable

START_TIMEOUT = 15.0


@contextmanager
def virtual_screen(width: int = 1280, height: int = 800) -> Iterator[str]:
    """Start Xvfb on a free display number (it picks one and tells it through ``-displayfd``);
    yield the ``DISPLAY`` value; stop it on the way out."""
    binary = shutil.which("Xvfb")
    if binary is None:
        unavailable("Xvfb not installed (apt-get install xvfb)")
        raise AssertionError("unreachable")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [
            binary,
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            f"{width}x{height}x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ],
        pass_fds=(write_end,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], START_TIMEOUT)
        number = os.read(read_end, 64).decode().strip() if ready else ""
        if not number.isdigit():
            raise RuntimeError(f"Xvfb did not start within {START_TIMEOUT} s")
        yield f":{number}"
    finally:
        os.close(read_end)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
