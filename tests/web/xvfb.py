"""A virtual X screen (Debian's Xvfb, started through PyVirtualDisplay) for browser tests that
need a real display, such as screen capture: headless browsers have no screen to share."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from pyvirtualdisplay import Display

from tests.conftest import unavailable


@contextmanager
def virtual_screen(width: int = 1280, height: int = 800) -> Iterator[str]:
    """Start Xvfb on a free display number; yield the ``DISPLAY`` value for the browser (the
    test process's own environment is left alone); stop it on the way out."""
    if shutil.which("Xvfb") is None:
        unavailable("Xvfb not installed (apt-get install xvfb)")
    display = Display(
        backend="xvfb",
        size=(width, height),
        manage_global_env=False,
        extra_args=["-nolisten", "tcp"],
    )
    display.start()
    try:
        yield display.new_display_var
    finally:
        display.stop()
