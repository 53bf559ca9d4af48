"""Metrics a privacy officer reads: accuracy, per-label scores, and the unsafe misses.

An *unsafe miss* is a scenario whose expected answer requires authorization and
whose predicted answer does not: the costliest error the tool can make.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sklearn.metrics import precision_recall_fscore_support

from app.models import Category
from app.scenarios import Scenario
from indexer.errors import CitationError
from indexer.models import Citation

LABELS = [c.value for c in Category]


@dataclass(frozen=True)
class Prediction:
    scenario_id: str
    category: str
    authorization_required: bool
    citations: tuple[str, ...] = ()
    status: str = "decided"


def citation_scores(expected: Sequence[str], predicted: Sequence[str]) -> tuple[int, int, int]:
    """(predicted that match an expected, expected matched by a prediction, predicted count),
    matching by LABELS.md: same section, one paragraph path a prefix of the other."""
    exp = [Citation.parse(c) for c in expected]
    pred = [c for c in (_parse(x) for x in predicted) if c is not None]
    good_pred = sum(1 for p in pred if any(p.matches(e) for e in exp))
    found_exp = sum(1 for e in exp if any(p.matches(e) for p in pred))
    return good_pred, found_exp, len(pred)


def _parse(text: str) -> Citation | None:
    """Guidance and secondary passages are cited by reference, not as law: not counted."""
    try:
        return Citation.parse(text)
    except CitationError:
        return None


def summarize(scenarios: Sequence[Scenario], predictions: Sequence[Prediction]) -> dict[str, Any]:
    by_id = {p.scenario_id: p for p in predictions}
    pairs = [(s, by_id[s.id]) for s in scenarios if s.id in by_id]
    y_true = [s.expected.category.value for s, _p in pairs]
    y_pred = [p.category for _s, p in pairs]
    n = len(pairs)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=LABELS, zero_division=0
    )
    per_label = {
        label: {
            "precision": round(float(precision[i]), 4),
            "recall": round(float(recall[i]), 4),
            "f1": round(float(f1[i]), 4),
            "support": int(support[i]),
        }
        for i, label in enumerate(LABELS)
    }
    present = [lab for lab in LABELS if per_label[lab]["support"] > 0]
    with_auth = [(s, p) for s, p in pairs if s.expected.authorization_required is not None]
    auth_right = sum(
        1 for s, p in with_auth if p.authorization_required == s.expected.authorization_required
    )
    unsafe = [
        s.id
        for s, p in with_auth
        if s.expected.authorization_required and not p.authorization_required
    ]
    cites = [(s, p) for s, p in pairs if s.expected.citations]
    good = found = total_pred = total_exp = 0
    for s, p in cites:
        g, f, t = citation_scores(s.expected.citations, p.citations)
        good, found, total_pred = good + g, found + f, total_pred + t
        total_exp += len(s.expected.citations)
    return {
        "n": n,
        "accuracy": round(sum(a == b for a, b in zip(y_true, y_pred, strict=True)) / n, 4)
        if n
        else 0.0,
        "macro_f1": round(sum(per_label[lab]["f1"] for lab in present) / len(present), 4)
        if present
        else 0.0,
        "per_label": per_label,
        "authorization_accuracy": round(auth_right / len(with_auth), 4) if with_auth else None,
        "unsafe_misses": len(unsafe),
        "unsafe_miss_ids": unsafe,
        "citation_precision": round(good / total_pred, 4) if total_pred else None,
        "citation_recall": round(found / total_exp, 4) if total_exp else None,
        "insufficient_facts_rate": round(
            sum(1 for _s, p in pairs if p.status == "insufficient_facts") / n, 4
        )
        if n
        else 0.0,
    }
