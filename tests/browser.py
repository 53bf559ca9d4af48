"""Shared helpers for the real-browser tests: a served app on loopback, and chromium.

``served_app`` starts ``tpo serve`` exactly as staff would (the same command, so it runs
whatever page the lead wires into it), on a free loopback port, with a scratch data
directory, in its own process group so the Streamlit child it spawns is stopped with it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.load import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import REPO, tpo_env

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

# The face under test: `tpo serve` (it picks the page: app/ui/main.py, the multipage app).
# Set SERVE_PAGE to a file to run `streamlit run FILE` instead, e.g. to try a page alone.
SERVE_PAGE: Path | None = None
# Sources enough for the two browser questions (marketing; own-program mailer) and citations.
BROWSER_SOURCES = {
    "45-cfr-164.501",
    "45-cfr-164.506",
    "45-cfr-164.508",
    "hhs-faq-refill-reminders",
}
SCREENS = Path("/tmp/tpo-screens")
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        **(extra or {}),
    }


def build_small_index(tmp_path: Path, sources: set[str] = BROWSER_SOURCES) -> dict[str, str]:
    """A scratch data dir indexing ``sources`` with the real embedder; returns the env."""
    env = base_env(tpo_env(tmp_path, sources))
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "index", "build"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    return env


@dataclass(frozen=True)
class ServedApp:
    url: str
    started: float  # time.monotonic() just before the process started
    ready: float  # time.monotonic() when the health endpoint first answered
    log: Path


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def served_app(env: dict[str, str], log: Path, timeout: float = 120.0) -> Iterator[ServedApp]:
    """``tpo serve`` on 127.0.0.1 and a free port; stopped (with its children) on exit."""
    port = free_port()
    if SERVE_PAGE is None:
        cmd = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    else:
        cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(SERVE_PAGE),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ]
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
            start_new_session=True,  # its own process group: `tpo serve` spawns streamlit
        )
        try:
            while not _healthy(url):
                if proc.poll() is not None:
                    raise RuntimeError(f"tpo serve exited {proc.returncode}: {log.read_text()}")
                if time.monotonic() - started > timeout:
                    raise RuntimeError(f"tpo serve not ready in {timeout} s: {log.read_text()}")
                time.sleep(0.2)
            yield ServedApp(url, started, time.monotonic(), log)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
            except ProcessLookupError:
                pass


def launch_chromium(pw: Playwright) -> Browser:
    """Debian's chromium, headless, with no background traffic; never `playwright install`."""
    return pw.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
    )
