"""The `tpo` command end to end: real embedder, real Chroma on disk, real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, needs_corpus, tpo_env, write_manifest

pytestmark = [needs_corpus, pytest.mark.slow]

SMALL = {
    "45-cfr-164.501",
    "45-cfr-164.506",
    "42-usc-17936",
    "hhs-faq-refill-reminders",
    "seed-paubox-operations-marketing",
}


def tpo(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def as_json(proc: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(proc.stdout)


def copy_mirror(mirror: Path) -> Path:
    """The corpus's markdown and guidance in a folder a test may edit."""
    (mirror / "guidance").mkdir(parents=True)
    for f in [*CORPUS.glob("*.md"), *(CORPUS / "guidance").glob("*.md")]:
        (mirror / f.relative_to(CORPUS)).write_text(f.read_text())
    return mirror


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, **tpo_env(tmp_path, SMALL), "HF_HUB_OFFLINE": "1"}


def test_build_status_update_search_and_diff_keep_their_json_contracts(
    env: dict[str, str], tmp_path: Path
) -> None:
    built = as_json(tpo(env, "index", "build", "--json"))
    assert built["version"] == "v1" and built["added"] == built["embedded"] > 50

    status = as_json(tpo(env, "index", "status", "--json"))
    assert status["version"] == "v1" and status["passages"] == built["passages"]
    assert {s["id"] for s in status["sources"]} == SMALL
    assert all({"id", "as_of", "passages", "hash"} <= set(s) for s in status["sources"])

    noop = as_json(tpo(env, "index", "update", "--json"))
    assert (noop["added"], noop["changed"], noop["removed"], noop["embedded"]) == (0, 0, 0, 0)

    mirror = copy_mirror(tmp_path / "mirror")
    target = mirror / "164.501.md"
    target.write_text(
        target.read_text().replace(
            "designed to develop or contribute to", "designed to develop or add to"
        )
    )
    changed = as_json(tpo(env, "index", "update", "--mirror", str(mirror), "--json"))
    assert changed["version"] == "v2" and changed["embedded"] == 1
    assert [(c["citation"], c["change"]) for c in changed["changes"]] == [
        ('45 CFR 164.501 "research"', "changed")
    ]
    assert {"citation", "change", "old_text", "new_text"} <= set(changed["changes"][0])

    hits = as_json(
        tpo(
            env,
            "search",
            "drug maker pays pharmacy for refill reminder mailers",
            "-k",
            "4",
            "--json",
        )
    )
    assert hits["version"] == "v2" and len(hits["hits"]) == 4
    first = hits["hits"][0]
    assert {"citation", "text", "dense_rank", "keyword_rank", "score"} <= set(first)
    assert any("refill" in h["text"].lower() for h in hits["hits"])

    diff = as_json(tpo(env, "index", "diff", "v1", "v2", "--json"))
    assert diff["changed"] == 1 and "add to" in diff["changes"][0]["new_text"]
    human = tpo(env, "index", "diff", "v1", "v2").stdout
    assert '164.501 "research"' in human and "contribute to" in human


def test_the_real_embedder_ranks_the_marketing_definition_for_a_marketing_question(
    env: dict[str, str],
) -> None:
    tpo(env, "index", "build")
    hits = as_json(tpo(env, "search", "is a mailer about a new product marketing", "--json"))
    assert any(
        h["citation"] and h["citation"].startswith('45 CFR 164.501 "marketing"')
        for h in hits["hits"]
    )


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("empty-file", "164.506.md: the file is empty"),
        ("missing-file", "164.506.md: listed in the manifest as source '45-cfr-164.506' but not"),
        ("unknown-key", "source '45-cfr-164.506'.colour: unknown key"),
        ("bad-toml", "not valid TOML"),
        ("no-mirror-dir", "the mirror folder does not exist"),
    ],
)
def test_bad_input_gives_one_clear_message_a_nonzero_exit_and_the_old_index_serves(
    env: dict[str, str], tmp_path: Path, breakage: str, message: str
) -> None:
    tpo(env, "index", "build")
    mirror = tmp_path / "mirror"
    (mirror / "guidance").mkdir(parents=True)
    for f in [*CORPUS.glob("*.md"), *(CORPUS / "guidance").glob("*.md")]:
        (mirror / f.relative_to(CORPUS)).write_text(f.read_text())
    manifest = Path(env["TPO_MANIFEST"])
    if breakage == "empty-file":
        (mirror / "164.506.md").write_text("")
    elif breakage == "missing-file":
        (mirror / "164.506.md").unlink()
    elif breakage == "unknown-key":
        manifest.write_text(
            manifest.read_text().replace(
                'id = "45-cfr-164.506"\n', 'id = "45-cfr-164.506"\ncolour = "blue"\n'
            )
        )
    elif breakage == "bad-toml":
        manifest.write_text(manifest.read_text() + "\n[[source]\n")
    elif breakage == "no-mirror-dir":
        mirror = tmp_path / "nowhere"
    proc = tpo(env, "index", "update", "--mirror", str(mirror), check=False)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and "→" in proc.stderr
    if breakage in ("unknown-key", "bad-toml"):
        manifest.write_text(write_manifest(tmp_path / "again.toml", SMALL).read_text())
    status = as_json(tpo(env, "index", "status", "--json"))
    assert status["version"] == "v1"
    assert as_json(tpo(env, "search", "psychotherapy notes", "--json"))["version"] == "v1"


def test_no_mirror_and_no_network_fails_clearly_and_keeps_the_index(
    env: dict[str, str], tmp_path: Path
) -> None:
    tpo(env, "index", "build")
    manifest = Path(env["TPO_MANIFEST"])
    # Point every official address at a closed loopback port: refused at once, as offline.
    manifest.write_text(
        manifest.read_text()
        .replace("https://www.ecfr.gov", "http://127.0.0.1:9")
        .replace("https://uscode.house.gov", "http://127.0.0.1:9")
        .replace("https://www.hhs.gov", "http://127.0.0.1:9")
    )
    proc = tpo(
        {**env, "TPO_DOWNLOAD_RETRIES": "1"},
        "index",
        "update",
        "--download",
        "--as-of",
        "2025-01-02",
        check=False,
    )
    assert proc.returncode == 2
    assert "cannot download http://127.0.0.1:9" in proc.stderr
    assert "--mirror" in proc.stderr and "Traceback" not in proc.stderr
    assert as_json(tpo(env, "index", "status", "--json"))["version"] == "v1"


def test_searching_before_any_build_says_what_to_do(env: dict[str, str]) -> None:
    proc = tpo(env, "search", "marketing", check=False)
    assert proc.returncode == 2 and "tpo index build" in proc.stderr


def test_the_same_commands_work_against_a_chroma_server(
    env: dict[str, str], chroma_server: tuple[str, int]
) -> None:
    host, port = chroma_server
    server_env = {**env, "TPO_CHROMA_HOST": host, "TPO_CHROMA_PORT": str(port)}
    built = as_json(tpo(server_env, "index", "build", "--json"))
    noop = as_json(tpo(server_env, "index", "update", "--json"))
    assert noop["embedded"] == 0 and noop["version"] == built["version"]
    hits = as_json(tpo(server_env, "search", "fundraising", "--json"))
    assert hits["version"] == built["version"] and hits["hits"]
    # The vectors live in the server, not in the local data directory.
    assert not (Path(env["TPO_DATA_DIR"]) / "chroma").exists()


def test_a_stopped_chroma_server_is_reported_with_what_to_do(env: dict[str, str]) -> None:
    proc = tpo(
        {**env, "TPO_CHROMA_HOST": "127.0.0.1", "TPO_CHROMA_PORT": "9"},
        "index",
        "build",
        check=False,
    )
    assert proc.returncode == 2
    assert "chroma run" in proc.stderr and "Traceback" not in proc.stderr


def test_a_classification_is_recorded_scrubbed_and_an_update_shows_its_impact(
    env: dict[str, str], tmp_path: Path
) -> None:
    tpo(env, "index", "build")
    env = {**env, "TPO_USER": "privacy.officer"}
    asked = as_json(
        tpo(
            env,
            "classify",
            "Patient Jane Whitaker (MRN 00482913): we share her records with another hospital "
            "that also treats her, for that hospital's quality assessment activities.",
            "--llm",
            "none",
            "--json",
        )
    )
    assert asked["audit_id"] == 1 and "Whitaker" not in asked["scrubbed_description"]
    listed = as_json(tpo(env, "audit", "list", "--json"))
    stored = json.dumps(listed)
    assert "Whitaker" not in stored and "00482913" not in stored
    assert listed["records"][0]["user"] == "privacy.officer"
    assert as_json(tpo(env, "audit", "verify", "--json"))["ok"] is True

    # Change the paragraph the answer rests on: the update names the answer it puts in question.
    cited = [c["citation"] for c in asked["citations"]]
    mirror = copy_mirror(tmp_path / "mirror2")
    target = mirror / "164.501.md"
    target.write_text(
        target.read_text().replace(
            "Conducting quality assessment and improvement activities",
            "Conducting quality assessment and quality improvement activities",
        )
    )
    updated = as_json(tpo(env, "index", "update", "--mirror", str(mirror), "--json"))
    assert updated["changed"] >= 1
    impact = updated["impact"]
    assert any('"health care operations" (1)' in c for c in impact["changed_citations"])
    recorded = [a for a in impact["affected"] if a["kind"] == "determination"]
    assert [a["id"] for a in recorded] == ["1"], cited
    assert recorded[0]["after"] is not None
    assert impact["counts"]["scenarios"] >= 1
