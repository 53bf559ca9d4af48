"""Concurrent chat sessions against a served app: no errors, every answer appears, bounded time.

A small version of ``tpo load-test`` (3 sessions x 2 questions, deadline 4 minutes) against
``tpo serve`` on loopback, through the command itself, so the CLI's output contract is
tested too. The fast tests check the report's figures and the no-app message.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.load import Answer, LoadReport, LoadTestError, check_app
from tests.browser import build_small_index, free_port, served_app
from tests.conftest import REPO, needs_corpus


def test_the_report_counts_errors_and_computes_latency_figures() -> None:
    answers = (
        Answer(0, 0, 1.0),
        Answer(0, 1, 3.0),
        Answer(1, 0, 2.0),
        Answer(1, 1, 0.0, "no answer within 5 s"),
    )
    data = LoadReport("http://x", 2, 2, answers, wall_seconds=4.0, deadline_seconds=60).to_json()
    assert data["expected_answers"] == 4 and data["answered"] == 3 and data["errors"] == 1
    assert data["latency_s"] == {"p50": 2.0, "p95": 3.0, "max": 3.0, "min": 1.0}
    assert data["throughput_answers_per_s"] == 0.75
    assert data["error_details"] == [{"session": 1, "question": 1, "error": "no answer within 5 s"}]


def test_no_app_at_the_address_says_how_to_start_one() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(LoadTestError) as info:
        check_app(url, timeout=2)
    assert url in str(info.value) and "tpo serve" in info.value.hint


@needs_corpus
@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/bin/chromium").is_file(), reason="no /usr/bin/chromium")
def test_concurrent_sessions_all_get_answers_without_errors(tmp_path: Path) -> None:
    pytest.importorskip("playwright")
    env = build_small_index(tmp_path)
    sessions, questions, deadline = 3, 2, 240
    with served_app(env, tmp_path / "serve.log") as app:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "app.cli",
                "load-test",
                "--sessions",
                str(sessions),
                "--questions",
                str(questions),
                "--url",
                app.url,
                "--deadline",
                str(deadline),
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=deadline + 60,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
        )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    print(f"\nload {sessions}x{questions}: {json.dumps(data)}")
    assert data["errors"] == 0, data["error_details"]
    assert data["answered"] == sessions * questions
    assert data["wall_seconds"] < deadline
    assert data["latency_s"]["max"] < 120
