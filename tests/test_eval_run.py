"""`tpo eval run` and `compare`: resumable runs, summaries, reports, deltas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.scenarios import parse_scenarios
from app.services import Services
from evaluation.report import compare, write_reports
from evaluation.run import PREDICTIONS, load_predictions, recall_at_k, run
from tests.conftest import needs_corpus

pytestmark = needs_corpus

ROWS = [
    {
        "id": "A",
        "description": "A drug company pays us to email patients about its new inhaler.",
        "expected": {
            "category": "marketing",
            "authorization_required": True,
            "citations": ["45 CFR 164.508(a)(3)"],
        },
    },
    {
        "id": "B",
        "description": "The billing office submits claims to the patient's health plan.",
        "expected": {"category": "payment", "authorization_required": False},
    },
    {
        "id": "C",
        "description": "We send the discharge summary to the patient's PCP.",
        "expected": {"category": "marketing", "authorization_required": True},
    },  # wrong on purpose
]


@pytest.fixture
def built(fake_services: Services) -> Services:
    manifest, snapshot = fake_services.read_corpus()
    fake_services.indexer().build(snapshot, manifest)
    fake_services.settings.precedent_files = []
    return fake_services


def scenarios() -> list:  # type: ignore[type-arg]
    return parse_scenarios("\n".join(json.dumps(r) for r in ROWS), "s.jsonl")


def test_a_run_writes_predictions_summary_and_reports(built: Services, tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = run(scenarios(), built.pipeline("none"), out, {"llm": "none"})
    assert summary["n"] == 3 and summary["unsafe_misses"] == 1  # C: expected authorization
    assert summary["accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert summary["retrieval_recall_at_k"] == 1.0
    assert summary["latency_ms"]["p50"] > 0 and summary["corpus_version"] == ["v1"]
    assert len((out / PREDICTIONS).read_text().splitlines()) == 3
    write_reports(scenarios(), load_predictions(out), summary, out)
    html = (out / "report.html").read_text()
    assert "unsafe misses" in html and "discharge summary" in html  # the error is listed
    assert (out / "confusion.png").stat().st_size > 1000
    assert "## Errors (1)" in (out / "report.md").read_text()


def test_an_interrupted_run_resumes_without_repeating_work(built: Services, tmp_path: Path) -> None:
    out = tmp_path / "run"
    run(scenarios()[:1], built.pipeline("none"), out, {"llm": "none"})
    with (out / PREDICTIONS).open("a") as f:
        f.write('{"id": "B", "determ')  # the process died mid-line
    summary = run(scenarios(), built.pipeline("none"), out, {"llm": "none"})
    ids = [json.loads(x)["id"] for x in (out / PREDICTIONS).read_text().splitlines()]
    assert sorted(ids) == ["A", "B", "C"] and summary["n"] == 3


def test_compare_shows_deltas_and_changed_answers(built: Services, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    run(scenarios(), built.pipeline("none"), a, {"llm": "none"})
    run(scenarios(), built.pipeline("none"), b, {"llm": "none"})
    rows = [json.loads(x) for x in (b / PREDICTIONS).read_text().splitlines()]
    rows[1]["determination"]["category"] = "treatment"
    (b / PREDICTIONS).write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    data = compare(a, b)
    assert data["changed"] == [
        {"id": "B", "a": "payment / no authorization", "b": "treatment / no authorization"}
    ]
    assert data["metrics"]["accuracy"]["delta"] == 0.0  # summary.json untouched by the edit


def test_compare_refuses_folders_that_are_not_runs(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "compare", str(tmp_path), str(tmp_path)])
    assert result.exit_code == 2 and "not a run folder" in result.output


def test_recall_at_k_counts_expected_citations_under_retrieved_passages() -> None:
    assert (
        recall_at_k(
            ["45 CFR 164.508(a)(3)", "45 CFR 164.501"],
            ["45 CFR 164.508(a)(3)(i)(A)", "hhs-faq ¶ FAQ 1514"],
        )
        == 0.5
    )
    assert recall_at_k([], ["45 CFR 164.501"]) is None


def test_the_summary_gives_latency_per_stage(built: Services, tmp_path: Path) -> None:
    summary = run(scenarios(), built.pipeline("none"), tmp_path / "r", {"llm": "none"})
    assert set(summary["stage_latency_ms"]) >= {"rules", "retrieval", "precedents", "total"}
    assert (
        summary["stage_latency_ms"]["total"]["p95"] >= summary["stage_latency_ms"]["total"]["p50"]
    )
