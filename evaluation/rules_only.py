"""The rule module alone on a scenario set: its accuracy is the offline product's accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.facts import extract_facts
from app.rules import decide
from app.scenarios import Scenario
from evaluation.metrics import Prediction, summarize


def evaluate_rules(scenarios: Sequence[Scenario]) -> tuple[dict[str, Any], list[Prediction]]:
    predictions = []
    for s in scenarios:
        v = decide(extract_facts(s.description))
        predictions.append(
            Prediction(s.id, v.category.value, v.authorization_required, v.citations, v.status)
        )
    return summarize(scenarios, predictions), predictions
