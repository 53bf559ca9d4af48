"""The Ask page, driven by Streamlit's AppTest against a real (small) index."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import needs_corpus, tpo_env

pytestmark = [needs_corpus, pytest.mark.slow]

PAGE = str(Path(__file__).resolve().parents[1] / "app" / "ui" / "ask.py")


@pytest.fixture
def small_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for k, v in tpo_env(tmp_path, {"45-cfr-164.501", "45-cfr-164.508"}).items():
        monkeypatch.setenv(k, v)
    subprocess.run(
        [sys.executable, "-m", "app.cli", "index", "build"],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    st.cache_resource.clear()  # shared across tests in one process
    yield tmp_path
    st.cache_resource.clear()


def test_asking_shows_the_badge_citations_and_trace(small_index: Path) -> None:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception
    at.chat_input[0].set_value("A drug company pays us to email patients about its new inhaler.")
    at.run()
    assert not at.exception
    assert any("marketing" in e.value and "authorization required" in e.value for e in at.error)
    labels = [e.label for e in at.expander]
    assert any(label.startswith('45 CFR 164.501 "marketing"') for label in labels)
    assert "How the rules decided" in labels


def test_a_clarifying_question_answered_re_runs_the_same_activity(small_index: Path) -> None:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.chat_input[0].set_value(
        "We want to send patients a mailer about our new weight loss program."
    )
    at.run()
    assert any("insufficient facts" in c.value for c in at.caption)
    at.text_input[0].set_value("No one outside pays us anything for it.")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert len(at.session_state["history"]) == 2
    second = at.session_state["history"][1]
    assert "mailer about our new weight loss program" in second["description"]
    # The answer to the question supplied the missing fact: the rules now decide.
    assert second["answer"]["rules"]["status"] == "decided"
    assert second["answer"]["rules"]["category"] == "health_care_operations"
    assert second["answer"]["status"] in ("confirmed", "needs_review")


def test_an_empty_index_is_a_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TPO_DATA_DIR", str(tmp_path / "empty"))
    st.cache_resource.clear()
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.chat_input[0].set_value("We send claims to the plan.")
    at.run()
    assert not at.exception
    assert any("tpo index build" in e.value for e in at.error)
    st.cache_resource.clear()
