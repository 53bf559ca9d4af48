"""`tpo eval run`: every scenario through the real pipeline, resumable, with a summary.

Predictions are appended one line at a time to ``predictions.jsonl``; a run that is
interrupted picks up where it stopped, keyed by scenario id.  The summary is
recomputed from that file, so it always describes exactly what was predicted.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from app.pipeline import Pipeline
from app.scenarios import Scenario
from app.scrub import scrub_determination
from app.timing import p50_p95
from evaluation.metrics import Prediction, summarize
from indexer.errors import CitationError
from indexer.models import Citation

PREDICTIONS = "predictions.jsonl"
SUMMARY = "summary.json"


def load_predictions(out: Path) -> dict[str, dict[str, Any]]:
    path = out / PREDICTIONS
    if not path.is_file():
        return {}
    done: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut off by an interruption is simply redone
        done[row["id"]] = row
    return done


def run(
    scenarios: Sequence[Scenario],
    pipeline: Pipeline,
    out: Path,
    settings: dict[str, Any],
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    done = load_predictions(out)
    # Rewrite what survived, so a line cut off by an interruption is not appended to.
    (out / PREDICTIONS).write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in done.values()), encoding="utf-8"
    )
    with (out / PREDICTIONS).open("a", encoding="utf-8") as f:
        for i, s in enumerate(scenarios, start=1):
            if s.id not in done:
                # A user's scenario file may hold real identifiers: the run folder keeps the
                # determination as the audit trail would, scrubbed.
                det = scrub_determination(pipeline.classify(s.description).to_json())
                row = {"id": s.id, "determination": det}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                f.flush()
                done[s.id] = row
            if progress:
                progress(i, len(scenarios))
    summary = summarize_run(scenarios, done, settings)
    (out / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def recall_at_k(expected: Sequence[str], retrieved: Sequence[str]) -> float | None:
    """Share of the expected citations that some retrieved passage falls under."""
    if not expected:
        return None
    got = []
    for ref in retrieved:
        try:
            got.append(Citation.parse(ref))
        except CitationError:
            continue  # guidance and secondary passages carry no citation
    hits = sum(1 for e in expected if any(Citation.parse(e).matches(g) for g in got))
    return hits / len(expected)


def summarize_run(
    scenarios: Sequence[Scenario], done: dict[str, dict[str, Any]], settings: dict[str, Any]
) -> dict[str, Any]:
    preds = []
    recalls: list[float] = []
    latencies: list[float] = []
    stages: dict[str, list[float]] = {}
    agree = compared = dropped = 0
    statuses: list[str] = []
    versions: set[str] = set()
    for s in scenarios:
        row = done.get(s.id)
        if row is None:
            continue
        d = row["determination"]
        preds.append(
            Prediction(
                s.id,
                d["category"],
                d["authorization_required"],
                tuple(c["citation"] for c in d["citations"]),
                d["status"],
            )
        )
        r = recall_at_k(s.expected.citations, d.get("retrieved", []))
        if r is not None:
            recalls.append(r)
        latencies.append(d["timings_ms"]["total"])
        for stage, ms in d["timings_ms"].items():
            stages.setdefault(stage, []).append(ms)
        statuses.append(d["status"])
        versions.add(d["corpus_version"])
        dropped += d.get("dropped_citations", 0)
        if d.get("llm") and d["llm"].get("category"):
            compared += 1
            agree += d["llm"]["category"] == d["rules"]["category"]
    summary = summarize(scenarios, preds)
    n = len(preds)
    summary.update(
        {
            "retrieval_recall_at_k": round(statistics.mean(recalls), 4) if recalls else None,
            "llm_rules_agreement": round(agree / compared, 4) if compared else None,
            "llm_answers": compared,
            "dropped_citations": dropped,
            "needs_review_rate": round(statuses.count("needs_review") / n, 4) if n else 0.0,
            "latency_ms": p50_p95(latencies),
            "stage_latency_ms": {stage: p50_p95(v) for stage, v in stages.items()},
            "corpus_version": sorted(versions),
            "settings": settings,
        }
    )
    return summary
