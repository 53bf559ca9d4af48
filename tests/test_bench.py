"""`tpo bench` runs end to end in a scratch directory and prints its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, needs_corpus

pytestmark = [needs_corpus, pytest.mark.slow]


def test_bench_measures_index_search_rules_and_classification(tmp_path: Path) -> None:
    env = {**os.environ, "TPO_DATA_DIR": str(tmp_path / "data"), "TPO_CORPUS_MIRROR": str(CORPUS)}
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "bench", "--repeats", "5", "--no-llm", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["passages"] > 800 and result["noop_update_embedded"] == 0
    assert result["one_paragraph_update"]["embedded"] == 1
    assert result["one_paragraph_update"]["changed"] == ["45 CFR 164.506(c)(5)"]
    for key in ("search_ms", "baseline_ms", "rules_ms", "classify_none_ms"):
        assert result[key]["p95"] >= result[key]["p50"] > 0
    assert set(result["throughput_per_s"]) == {"search", "rules", "classify_none"}
    assert not (tmp_path / "data").exists()  # the bench never touches the index in use
