"""Headless Firefox for browser tests: Debian's ``firefox-esr`` driven over Marionette.

Playwright drives only its own patched Firefox builds (never downloaded here), so the meeting
page is tested in the real Firefox through Marionette, Firefox's own remote protocol
(``--marionette``; the ``marionette-driver`` client, no geckodriver). Each launch gets a fresh
profile whose ``user.js`` fakes the camera and microphone, lets WebRTC gather host candidates
and keeps Firefox off the network: DNS is disabled, every updater, telemetry and remote
service is off, so only the loopback URLs a test opens are ever fetched.

    with launched(tmp_path) as firefox:
        firefox.open(url)
        firefox.wait_for("return document.title")
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import unavailable

try:
    with warnings.catch_warnings():
        # mozinfo (a marionette-driver dependency) calls a deprecated distro API on import
        warnings.simplefilter("ignore", DeprecationWarning)
        from marionette_driver.by import By  # type: ignore[import-untyped]
        from marionette_driver.errors import MarionetteException  # type: ignore[import-untyped]
        from marionette_driver.marionette import Marionette  # type: ignore[import-untyped]
except ImportError:  # reported by launched(), not at collection
    MARIONETTE_DRIVER = False
else:
    MARIONETTE_DRIVER = True

FIREFOX_NAMES = ("firefox-esr", "firefox")
START_TIMEOUT = 60.0

Pref = bool | int | str

PREFS: dict[str, Pref] = {
    # Marionette: port 0 = any free port, written to <profile>/MarionetteActivePort
    "marionette.port": 0,
    # camera and microphone: Firefox's fake devices, no permission prompt
    "media.navigator.streams.fake": True,
    "media.navigator.permission.disabled": True,
    # WebRTC: plain host candidates (no mDNS names), no default STUN server
    "media.peerconnection.ice.obfuscate_host_addresses": False,
    "media.peerconnection.ice.loopback": True,
    "media.peerconnection.ice.link_local": False,
    "media.peerconnection.ice.default_address_only": False,
    "media.peerconnection.ice.no_host": False,
    "media.peerconnection.ice.proxy_only": False,
    "media.peerconnection.default_iceservers": "[]",
    "media.gmp-manager.updateEnabled": False,
    "media.gmp-manager.url": "",
    "media.gmp-gmpopenh264.autoupdate": False,
    "media.gmp-widevinecdm.enabled": False,
    "media.eme.enabled": False,
    # the network: loopback only. No DNS at all (URLs are IP literals), no proxy, no
    # prefetching, no connectivity or captive-portal probes, no DNS-over-HTTPS.
    "network.dns.disabled": True,
    "network.dns.native-is-localhost": True,
    "network.trr.mode": 5,
    "network.proxy.type": 0,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "network.predictor.enabled": False,
    "network.http.speculative-parallel-limit": 0,
    "network.connectivity-service.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.manage-offline-status": False,
    "captivedetect.canonicalURL": "",
    # updates, experiments, remote settings, add-ons
    "app.update.enabled": False,
    "app.update.auto": False,
    "app.update.disabledForTesting": True,
    "app.normandy.enabled": False,
    "app.normandy.api_url": "",
    "app.shield.optoutstudies.enabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
    "services.settings.server": "data:,#remote-settings-dummy/v1",
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.blocklist.enabled": False,
    "extensions.systemAddon.update.enabled": False,
    "browser.search.update": False,
    "browser.region.network.url": "",
    "browser.region.update.enabled": False,
    "browser.translations.enable": False,
    "browser.ml.enable": False,
    "identity.fxaccounts.enabled": False,
    "dom.push.connection.enabled": False,
    "geo.provider.network.url": "",
    # safe browsing and tracking-protection lists
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.downloads.remote.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "privacy.trackingprotection.enabled": False,
    # telemetry and data reporting
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.policy.dataSubmissionPolicyBypassNotification": True,
    "datareporting.usage.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "toolkit.telemetry.archive.enabled": False,
    "toolkit.telemetry.server": "",
    "toolkit.telemetry.newProfilePing.enabled": False,
    "toolkit.telemetry.shutdownPingSender.enabled": False,
    "toolkit.telemetry.firstShutdownPing.enabled": False,
    "toolkit.telemetry.updatePing.enabled": False,
    "toolkit.telemetry.bhrPing.enabled": False,
    "telemetry.fog.test.localhost_port": -1,
    # a quiet first start
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.page": 0,
    "browser.startup.homepage": "about:blank",
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "browser.newtabpage.enabled": False,
    "browser.topsites.contile.enabled": False,
    "browser.sessionstore.resume_from_crash": False,
    "browser.cache.disk.enable": False,
    "datareporting.policy.firstRunURL": "",
    "toolkit.startup.max_resumed_crashes": -1,
}

# Script errors and CSP reports of the page: Firefox's console service (chrome context).
CONSOLE_SCRIPT = """
const out = [];
for (const m of Services.console.getMessageArray() || []) {
  const error = m instanceof Ci.nsIScriptError;
  out.push({
    message: error ? m.errorMessage : m.message,
    source: error ? m.sourceName : "",
    line: error ? m.lineNumber : 0,
    category: error ? m.category : "",
    level: m.logLevel,
  });
}
return out;
"""
ERROR_LEVEL = 3  # nsIConsoleMessage.error


def firefox_binary() -> Path:
    """Debian's Firefox (``firefox-esr``); skipped where absent (a failure in CI)."""
    for name in FIREFOX_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    unavailable("firefox-esr not installed")
    raise AssertionError("unreachable")


def write_profile(profile: Path, prefs: dict[str, Pref]) -> None:
    profile.mkdir(parents=True, exist_ok=True)
    lines = [f"user_pref({json.dumps(k)}, {json.dumps(v)});" for k, v in prefs.items()]
    (profile / "user.js").write_text("\n".join(lines) + "\n")


@dataclass
class ConsoleEntry:
    message: str
    source: str
    line: int
    category: str
    level: int

    def __str__(self) -> str:
        return f"{self.category or 'console'}: {self.message} ({self.source}:{self.line})"


def until(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Call ``check`` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


class Firefox:
    """One running Firefox and its Marionette session (content context by default)."""

    def __init__(self, client: Marionette, process: subprocess.Popen[bytes], log: Path) -> None:
        self.client = client
        self.process = process
        self.log = log

    # --- pages ----------------------------------------------------------------------------------

    def open(self, url: str) -> None:
        """Navigate the current tab and wait for the page's load event."""
        self.client.navigate(url)

    def new_tab(self) -> str:
        """Open a tab and switch to it; its handle (``switch(handle)`` comes back)."""
        handle: str = self.client.open(type="tab", focus=True)["handle"]
        self.client.switch_to_window(handle)
        return handle

    def switch(self, handle: str) -> None:
        self.client.switch_to_window(handle)

    def reset(self) -> None:
        """Close every tab but one, left on about:blank, and clear the console (between
        tests)."""
        handles = self.client.window_handles
        for handle in handles[1:]:
            self.client.switch_to_window(handle)
            self.client.close()
        self.client.switch_to_window(handles[0])
        self.client.navigate("about:blank")
        self.clear_console()

    # --- scripts --------------------------------------------------------------------------------

    def run(self, script: str, *args: Any) -> Any:
        """``WebDriver:ExecuteScript`` in the page itself (no sandbox: page globals are seen
        and changed); the body's ``return`` value, JSON-like."""
        return self.client.execute_script(script, script_args=args, sandbox=None)

    def run_async(self, script: str, *args: Any, timeout: float = 10.0) -> Any:
        """``WebDriver:ExecuteAsyncScript``: the script calls ``arguments[arguments.length-1]``
        with its result."""
        return self.client.execute_async_script(
            script, script_args=args, sandbox=None, script_timeout=int(timeout * 1000)
        )

    def wait_for(self, script: str, *args: Any, timeout: float = 10.0, what: str = "") -> Any:
        """Run ``script`` until it returns something truthy; that value."""
        return until(lambda: self.run(script, *args), what or script, timeout)

    def text(self, selector: str) -> str:
        value: str = self.run(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
            selector,
        )
        return value

    def wait_for_text(self, selector: str, text: str, timeout: float = 10.0) -> str:
        """Wait until the element's text contains ``text``; the whole text."""
        try:
            found: str = self.wait_for(
                "const e = document.querySelector(arguments[0]);"
                "return e && e.textContent.includes(arguments[1]) ? e.textContent : '';",
                selector,
                text,
                timeout=timeout,
            )
        except AssertionError:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {text!r} in {selector}:"
                f" it has {self.text(selector)!r}"
            ) from None
        return found

    # --- input (real Marionette input events: visibility and interactability are checked) ----

    def click(self, selector: str) -> None:
        self.client.find_element(By.CSS_SELECTOR, selector).click()

    def fill(self, selector: str, text: str) -> None:
        element = self.client.find_element(By.CSS_SELECTOR, selector)
        element.clear()
        element.send_keys(text)

    # --- diagnostics ----------------------------------------------------------------------------

    def console(self) -> list[ConsoleEntry]:
        """Everything in Firefox's console service (script errors, CSP reports, warnings)."""
        with self.client.using_context(self.client.CONTEXT_CHROME):
            entries = self.client.execute_script(CONSOLE_SCRIPT)
        return [ConsoleEntry(**entry) for entry in entries]

    def clear_console(self) -> None:
        with self.client.using_context(self.client.CONTEXT_CHROME):
            self.client.execute_script("Services.console.reset();")

    def problems(self, origin: str) -> list[str]:
        """Errors of pages from ``origin``: script errors, and CSP violations at any level."""
        found = []
        for entry in self.console():
            ours = entry.source.startswith(origin) or origin in entry.message
            csp = "Content-Security-Policy" in entry.message or entry.category == "CSP"
            if (ours and entry.level >= ERROR_LEVEL) or (csp and (ours or not entry.source)):
                found.append(str(entry))
        return found


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End Firefox's whole process group: SIGTERM, then SIGKILL."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # helpers left in the group
    if process.poll() is None:
        process.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until the group's last process is gone
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def _marionette_port(profile: Path, process: subprocess.Popen[bytes], log: Path) -> int:
    active = profile / "MarionetteActivePort"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"firefox exited early ({process.returncode}):\n{log.read_text()}")
        text = active.read_text().strip() if active.exists() else ""
        if text.isdigit():
            return int(text)
        time.sleep(0.05)
    raise RuntimeError(f"firefox did not open Marionette in time:\n{log.read_text()}")


@contextlib.contextmanager
def launched(
    workdir: Path,
    *,
    prefs: dict[str, Pref] | None = None,
    binary: Path | None = None,
    display: str | None = None,
) -> Iterator[Firefox]:
    """Start Firefox (headless, or on the X ``display`` given: screen capture needs a screen)
    with a fresh profile under ``workdir``, connected over Marionette; quit it (its whole
    process group) on the way out, whatever happened."""
    if not MARIONETTE_DRIVER:
        unavailable("marionette-driver not installed")
    executable = binary or firefox_binary()
    profile = workdir / "firefox-profile"
    write_profile(profile, {**PREFS, **(prefs or {})})
    log = workdir / "firefox.log"
    env = {
        **os.environ,
        "MOZ_CRASHREPORTER_DISABLE": "1",
        "MOZ_DISABLE_AUTO_SAFE_MODE": "1",
        "MOZ_REMOTE_SETTINGS_DEVTOOLS": "0",
        "HOME": str(workdir),  # nothing lands in the real home
        "XDG_CACHE_HOME": str(workdir / "cache"),
        "XDG_CONFIG_HOME": str(workdir / "config"),
    }
    if display is None:
        env["MOZ_HEADLESS"] = "1"
    else:
        env["DISPLAY"] = display
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env.pop(name, None)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                str(executable),
                "--marionette",
                *(["-headless"] if display is None else []),
                "-no-remote",
                "-remote-allow-system-access",  # the chrome context, for console()
                "-profile",
                str(profile),
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, killed whole
        )
    client: Marionette | None = None
    try:
        port = _marionette_port(profile, process, log)
        client = Marionette(host="127.0.0.1", port=port, socket_timeout=120)
        client.raise_for_port(timeout=START_TIMEOUT, check_process_status=False)
        client.start_session({"pageLoadStrategy": "normal"})
        yield Firefox(client, process, log)
    finally:
        if client is not None:
            with contextlib.suppress(MarionetteException, OSError):
                client.cleanup()  # ends the session, closes the socket
        _stop(process)
