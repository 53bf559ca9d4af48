"""No network at run time: build, classify and evaluate with every socket but loopback blocked.

The commands run inside a network namespace that has only a loopback interface
(`unshare --net`, as root), which blocks every protocol and every library, not only
Python's socket module. Where namespaces are not permitted, a ``sitecustomize`` on
PYTHONPATH makes ``socket.connect`` and ``getaddrinfo`` refuse non-loopback addresses.
Either way the test first proves the block is real: a connect to a public address fails
inside it while a loopback connect works.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.browser import base_env
from tests.conftest import REPO, needs_corpus, tpo_env

pytestmark = [needs_corpus, pytest.mark.slow]

SOURCES = {"45-cfr-164.501", "45-cfr-164.506", "45-cfr-164.508", "hhs-faq-refill-reminders"}

PROBE = r"""
import socket, sys
server = socket.create_server(("127.0.0.1", 0))
port = server.getsockname()[1]
socket.create_connection(("127.0.0.1", port), timeout=5).close()
results = {"loopback": "ok"}
for name, target in (("public_ip", ("1.1.1.1", 443)), ("dns", ("pypi.org", 443))):
    try:
        socket.create_connection(target, timeout=5).close()
        results[name] = "CONNECTED"
    except OSError as exc:
        results[name] = f"blocked: {exc}"
print(results)
sys.exit(0 if all(v == "ok" or v.startswith("blocked") for v in results.values()) else 1)
"""

# The fallback when namespaces are not allowed: only loopback addresses may be reached.
SITECUSTOMIZE = r"""
import ipaddress, socket

def _loopback(host):
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

_connect, _getaddrinfo = socket.socket.connect, socket.getaddrinfo

def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        raise OSError(101, f"network blocked by the offline test: {address[0]}")
    return _connect(self, address)

def getaddrinfo(host, *args, **kwargs):
    if host is not None and not _loopback(str(host)):
        raise socket.gaierror(-2, f"name resolution blocked by the offline test: {host}")
    return _getaddrinfo(host, *args, **kwargs)

socket.socket.connect = connect
socket.getaddrinfo = getaddrinfo
"""


@cache
def namespaces_work() -> bool:
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not unshare or not ip or os.geteuid() != 0:
        return False
    probe = subprocess.run(
        [unshare, "--net", "--", "sh", "-c", "ip link set lo up"],
        capture_output=True,
        timeout=30,
    )
    return probe.returncode == 0


def offline(
    args: list[str], env: dict[str, str], guard_dir: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` with only loopback: a network namespace, else the sitecustomize guard."""
    if namespaces_work():
        cmd = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *args]
        run_env = env
    else:
        guard_dir.mkdir(exist_ok=True)
        (guard_dir / "sitecustomize.py").write_text(SITECUSTOMIZE)
        cmd = args
        run_env = {**env, "PYTHONPATH": os.pathsep.join([str(guard_dir), str(REPO)])}
    return subprocess.run(
        cmd, env=run_env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL
    )


def tpo(env: dict[str, str], guard: Path, *args: str) -> Any:
    proc = offline([sys.executable, "-m", "app.cli", *args, "--json"], env, guard)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_build_classify_and_evaluate_work_with_only_loopback(tmp_path: Path) -> None:
    env = base_env(tpo_env(tmp_path, SOURCES))
    guard = tmp_path / "guard"

    probe = offline([sys.executable, "-c", PROBE], env, guard)
    assert probe.returncode == 0, probe.stdout + probe.stderr
    assert "'loopback': 'ok'" in probe.stdout
    assert "'public_ip': 'blocked" in probe.stdout and "'dns': 'blocked" in probe.stdout
    print(f"\nblock ({'netns' if namespaces_work() else 'sitecustomize'}): {probe.stdout.strip()}")

    built = tpo(env, guard, "index", "build")
    assert built["version"] == "v1" and built["passages"] > 0

    det = tpo(
        env,
        guard,
        "classify",
        "A drug company pays us to email patients about its new inhaler.",
        "--llm",
        "none",
    )
    assert det["category"] == "marketing" and det["authorization_required"] is True
    assert det["citations"]

    scenarios = tmp_path / "few.jsonl"
    lines = (REPO / "evaluation" / "scenarios" / "dev.jsonl").read_text().splitlines()[:4]
    scenarios.write_text("\n".join(lines) + "\n")
    summary = tpo(
        env, guard, "eval", "run", str(scenarios), "--llm", "none", "--out", str(tmp_path / "run")
    )
    assert summary["n"] == 4
    assert (tmp_path / "run" / "predictions.jsonl").read_text().count("\n") == 4


@pytest.mark.skipif(
    not (REPO / ".venv").exists() or __import__("importlib").util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python is not installed",
)
def test_the_embedded_llm_answers_with_only_loopback(tmp_path: Path) -> None:
    env = base_env(tpo_env(tmp_path, SOURCES))
    guard = tmp_path / "guard"
    assert tpo(env, guard, "index", "build")["version"] == "v1"
    det = tpo(
        env,
        guard,
        "classify",
        "A drug company pays us to email patients about its new inhaler.",
        "--llm",
        "embedded",
    )
    llm = det["llm"]
    # The model loads from site-packages: no download, no error, and it never decides.
    assert llm["backend"] == "embedded" and "error" not in llm, llm
    assert det["category"] == "marketing"
