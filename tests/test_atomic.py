"""Atomic updates: real update processes killed with SIGKILL at many points.

After every kill the index must still answer from a complete version (the old
one, or the new one if the kill came after the switch), with exactly that
version's passages in the serving collection; the next update must complete
and clean up what the killed one left.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from tests.conftest import CORPUS, SEEDS, needs_corpus, write_manifest

pytestmark = [needs_corpus, pytest.mark.slow]

SOURCES = {"45-cfr-160.103", "45-cfr-164.501", "45-cfr-164.506"}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        cwd=Path(__file__).parents[1],
    )


def tpo_json(env: dict[str, str], *args: str) -> dict[str, object]:
    proc = run(env, "-m", "app.cli", *args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def check_serving(env: dict[str, str], allowed: set[str]) -> str:
    """The serving version is complete and consistent; returns its id."""
    status = tpo_json(env, "index", "status")
    version = str(status["version"])
    assert version in allowed
    data = Path(env["TPO_DATA_DIR"])
    db = sqlite3.connect(data / "versions.sqlite")
    collection, count = db.execute(
        "select collection, passages from versions where id = ?", (version,)
    ).fetchone()
    refs = {
        r for (r,) in db.execute("select ref from version_passages where version = ?", (version,))
    }
    db.close()
    client = chromadb.PersistentClient(
        path=str(data / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    ids = client.get_collection(collection).get(include=[])["ids"]
    assert len(ids) == len(set(ids)) == count == len(refs)  # no duplicates, nothing missing
    assert set(ids) == refs  # no orphans in the serving collection
    hits = tpo_json(env, "search", "refill reminder", "-k", "3")
    assert hits["version"] == version and len(hits["hits"]) == 3  # type: ignore[arg-type]
    return version


def rewrite(mirror: Path, word: str) -> None:
    """Change nearly every passage, so an update has many batches to be killed in."""
    for f in CORPUS.glob("*.md"):
        (mirror / f.name).write_text(f.read_text().replace(" the ", f" {word} "))


@pytest.fixture
def setup(tmp_path: Path) -> tuple[dict[str, str], int]:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    rewrite(mirror, "any")
    env = {
        **os.environ,
        "TPO_DATA_DIR": str(tmp_path / "data"),
        "TPO_MANIFEST": str(write_manifest(tmp_path / "sources.toml", SOURCES)),
        "TPO_CORPUS_MIRROR": str(CORPUS),
        "TPO_SEEDS_MIRROR": str(SEEDS),
        "HF_HUB_OFFLINE": "1",
    }
    built = tpo_json(env, "index", "build")
    assert built["version"] == "v1"
    return {**env, "TPO_CORPUS_MIRROR": str(mirror)}, int(built["passages"])  # type: ignore[call-overload]


def test_kills_at_every_step_leave_a_complete_version_serving(
    setup: tuple[dict[str, str], int],
) -> None:
    env, passages = setup
    for point in ("embed", "before-write", "write", "after-write"):
        proc = run(env, "-m", "tests.kill_update", point)
        assert proc.returncode == -signal.SIGKILL, (point, proc.stderr)
        assert check_serving(env, {"v1"}) == "v1", point
    proc = run(env, "-m", "tests.kill_update", "after-commit")
    assert proc.returncode == -signal.SIGKILL
    # Killed after the switch: the new version serves; the old collection is a leftover.
    new = check_serving(env, {"v2", "v3", "v4", "v5", "v6"})
    report = tpo_json(env, "index", "update")
    assert report["new_version"] is False and report["version"] == new
    assert len(report["cleaned_collections"]) >= 1  # type: ignore[arg-type]
    client = chromadb.PersistentClient(
        path=str(Path(env["TPO_DATA_DIR"]) / "chroma"),
        settings=ChromaSettings(anonymized_telemetry=False),
    )
    assert len(client.list_collections()) == 1
    assert passages > 0


def test_updates_killed_at_random_moments_never_break_the_index(
    setup: tuple[dict[str, str], int],
) -> None:
    env, _passages = setup
    cache = Path(env["TPO_DATA_DIR"]) / "versions.sqlite"

    def cached() -> int:
        with sqlite3.connect(cache) as db:
            return int(db.execute("select count(*) from embedding_cache").fetchone()[0])

    served = {"v1"}
    for i, delay in enumerate((0.0, 0.15, 0.6)):  # seconds after embedding has started
        rewrite(Path(env["TPO_CORPUS_MIRROR"]), f"word{i}")  # fresh work for every run
        start_count = cached()
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "index", "update"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while cached() == start_count and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        served.add(check_serving(env, served | {f"v{n}" for n in range(2, 9)}))
    final = tpo_json(env, "index", "update")
    assert final["version"] is not None
    check_serving(env, {str(final["version"])})


def test_a_running_reader_answers_from_the_old_version_until_the_new_one_is_complete(
    setup: tuple[dict[str, str], int], tmp_path: Path
) -> None:
    env, _passages = setup
    out = (tmp_path / "reader.log").open("w")
    reader = subprocess.Popen(
        [sys.executable, "-m", "tests.search_loop"],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while "ready" not in (tmp_path / "reader.log").read_text():
            assert reader.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        report = tpo_json(env, "index", "update")
        assert report["version"] == "v2"
        time.sleep(1.0)
    finally:
        reader.kill()
        reader.wait(10)
        out.close()
    log = (tmp_path / "reader.log").read_text().splitlines()
    lines = [json.loads(x) for x in log if x.startswith("{")]
    assert lines and not [x for x in lines if "error" in x]
    versions = [x["version"] for x in lines]
    assert all(x["hits"] == 3 for x in lines)
    # v1 throughout the update, then v2, never back.
    assert versions[0] == "v1" and versions[-1] == "v2"
    switch = versions.index("v2")
    assert set(versions[:switch]) == {"v1"} and set(versions[switch:]) == {"v2"}
