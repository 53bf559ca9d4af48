"""A folder of documents: every file classified, failures listed, outputs that parse back."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.batch import COLUMNS, classify_dir, supported_files, write_output
from app.pipeline import Pipeline
from app.services import Services
from indexer.errors import UserInputError
from tests.conftest import FIXTURES, needs_corpus, tpo_env

pytestmark = needs_corpus

BATCH = FIXTURES / "documents" / "batch"
BROKEN = FIXTURES / "documents" / "broken"
LABELS = [json.loads(x) for x in (FIXTURES / "documents" / "labels.jsonl").read_text().splitlines()]


@pytest.fixture
def pipeline(fake_services: Services) -> Pipeline:
    manifest, snapshot = fake_services.read_corpus()
    fake_services.indexer().build(snapshot, manifest)
    fake_services.settings.precedent_files = []
    return fake_services.pipeline("none")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three good documents (one in a subfolder), two broken ones, and a file of another type."""
    root = tmp_path / "outgoing"
    (root / "letters").mkdir(parents=True)
    shutil.copy(BATCH / "refill-reminder-3.txt", root / "a-refill.txt")
    shutil.copy(BATCH / "data-license-agreement-1.docx", root / "letters" / "b-agreement.docx")
    shutil.copy(BATCH / "research-request-1.eml", root / "c-research.eml")
    shutil.copy(BROKEN / "encrypted.pdf", root / "b-locked.pdf")
    shutil.copy(BROKEN / "corrupt.docx", root / "letters" / "a-broken.docx")
    (root / "notes.xlsx").write_bytes(b"PK\x03\x04")
    (root / ".DS_Store").write_bytes(b"\x00\x00")
    return root


def test_files_are_found_recursively_sorted_and_hidden_ones_left_out(folder: Path) -> None:
    ok, other = supported_files(folder)
    assert [p.relative_to(folder).as_posix() for p in ok] == [
        "a-refill.txt",
        "b-locked.pdf",
        "c-research.eml",
        "letters/a-broken.docx",
        "letters/b-agreement.docx",
    ]
    assert [p.name for p in other] == ["notes.xlsx"]


def test_the_batch_goes_on_past_broken_files_and_lists_them(
    pipeline: Pipeline, folder: Path
) -> None:
    seen: list[tuple[str, int, int]] = []
    recorded: list[dict[str, Any]] = []
    result = classify_dir(
        pipeline,
        folder,
        progress=lambda stage, done, total: seen.append((stage, done, total)),
        record=recorded.append,
    )
    by_file = {r.file: r for r in result.rows}
    assert len(result.rows) == 5 and result.skipped == ("notes.xlsx",)
    assert {r.file for r in result.failures} == {"b-locked.pdf", "letters/a-broken.docx"}
    assert "password" in by_file["b-locked.pdf"].error
    assert by_file["b-locked.pdf"].status == "failed" and not by_file["b-locked.pdf"].category
    assert by_file["letters/b-agreement.docx"].category == "sale_of_phi"
    assert by_file["letters/b-agreement.docx"].authorization == "required"
    assert by_file["c-research.eml"].category == "research"
    assert all(r.citation.startswith("45 CFR") for r in result.rows if not r.error)
    assert seen[-1] == ("documents", 5, 5) and len(seen) == 5
    # The audit trail gets one entry per classified document, with its file name.
    assert [r["file"] for r in recorded] == [
        "a-refill.txt",
        "c-research.eml",
        "letters/b-agreement.docx",
    ]
    assert all("category" in r and "rules" in r for r in recorded)
    assert [r is None for r in result.results] == [False, True, False, True, False]
    summary = result.to_json()
    assert summary["failed"] == 2 and summary["classified"] == 3 and summary["documents"] == 5


def test_csv_and_jsonl_outputs_parse_back(pipeline: Pipeline, folder: Path, tmp_path: Path) -> None:
    result = classify_dir(pipeline, folder, context="No one pays us.")
    write_output(result, tmp_path / "out.csv")
    write_output(result, tmp_path / "out.jsonl")
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS
    assert rows == [r.to_json() for r in result.rows]
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [{c: x[c] for c in COLUMNS} for x in lines] == rows
    agreement = next(x for x in lines if x["file"] == "letters/b-agreement.docx")
    assert agreement["authorization_contents"] and agreement["evidence"]
    assert all(set(e) >= {"fact", "start", "end", "text"} for e in agreement["evidence"])
    assert "evidence" not in next(x for x in lines if x["error"])
    with pytest.raises(UserInputError):
        write_output(result, tmp_path / "out.xlsx")


def test_an_empty_or_missing_folder_is_a_user_error(pipeline: Pipeline, tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="no documents"):
        classify_dir(pipeline, tmp_path)
    with pytest.raises(UserInputError, match="not a folder"):
        classify_dir(pipeline, tmp_path / "missing")


@pytest.mark.slow
def test_the_real_cli_classifies_a_folder(tmp_path: Path, folder: Path) -> None:
    """`tpo classify --dir` end to end: real embedder, real index, the fixture folder."""
    env = {**os.environ, **tpo_env(tmp_path, {"45-cfr-164.501", "45-cfr-164.508",
                                              "45-cfr-164.512", "45-cfr-164.506"})}  # fmt: skip
    tpo = str(Path(sys.executable).parent / "tpo")
    subprocess.run([tpo, "index", "build"], env=env, check=True, capture_output=True, timeout=600)
    out_csv = tmp_path / "results.csv"
    run = subprocess.run(
        [tpo, "classify", "--dir", str(folder), "--out", str(out_csv), "--llm", "none", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["documents"] == 5 and data["failed"] == 2
    assert {f["file"] for f in data["failures"]} == {"b-locked.pdf", "letters/a-broken.docx"}
    with out_csv.open(newline="", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == 5
    one = subprocess.run(
        [tpo, "classify", "--file", str(BATCH / "manufacturer-flyer-1.pdf"), "--llm", "none",
         "--json"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert one.returncode == 0, one.stderr
    answer = json.loads(one.stdout)
    assert answer["determination"]["category"] == "marketing"
    text = answer["document"]["text"]
    assert all(text[e["start"] : e["end"]] == e["text"] for e in answer["evidence"])
    broken = subprocess.run(
        [tpo, "classify", "--file", str(BROKEN / "scanned.pdf"), "--llm", "none"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert broken.returncode == 2 and "run OCR first" in broken.stderr
    assert "Traceback" not in broken.stderr
