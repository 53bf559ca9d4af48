"""Recall and precision of :func:`app.scrub.scrub` on the synthetic sentences of
:mod:`evaluation.phi_synth`.

A detected span counts for a gold span when they overlap and are of the same kind
(per-kind figures).  For leaks the kind does not matter: *kind-agnostic recall* counts
a gold identifier as removed when any detection overlaps it, and *fully removed* when
every letter and digit of it is inside detections (an overlap can still leave part of
a number behind).  *Stopped by the residual check* counts the sentences with a gold
identifier not fully removed that :func:`app.scrub.residual` would still refuse to send;
*false alarms* the fully scrubbed sentences it would refuse anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.scrub import KINDS, Redaction, residual, scrub
from evaluation.phi_synth import Family, GoldSpan, SynthSentence, generate


@dataclass
class KindScore:
    gold: int = 0
    found: int = 0  # gold spans overlapped by a detection of the same kind
    detected: int = 0
    correct: int = 0  # detections overlapping a gold span of the same kind

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.detected if self.detected else 1.0


@dataclass
class ScrubReport:
    family: str
    seed: int
    sentences: int
    kinds: dict[str, KindScore] = field(default_factory=dict)
    gold: int = 0
    any_found: int = 0
    fully_removed: int = 0
    detected: int = 0
    detected_on_gold: int = 0
    leaky_sentences: int = 0
    leaky_stopped: int = 0
    residual_false_alarms: int = 0  # nothing left, yet the residual check would refuse
    residual_on_original: int = 0  # sentences the residual check alone would flag
    examples_missed: list[str] = field(default_factory=list)

    def overall(self) -> KindScore:
        total = KindScore()
        for s in self.kinds.values():
            total.gold += s.gold
            total.found += s.found
            total.detected += s.detected
            total.correct += s.correct
        return total

    def to_json(self) -> dict[str, Any]:
        overall = self.overall()
        return {
            "family": self.family,
            "seed": self.seed,
            "sentences": self.sentences,
            "per_kind": {
                k: {
                    "gold": s.gold,
                    "recall": round(s.recall, 4),
                    "precision": round(s.precision, 4),
                    "detected": s.detected,
                }
                for k, s in self.kinds.items()
            },
            "overall": {
                "gold": overall.gold,
                "recall": round(overall.recall, 4),
                "precision": round(overall.precision, 4),
            },
            "kind_agnostic": {
                "recall": round(self.any_found / self.gold, 4) if self.gold else 1.0,
                "fully_removed": round(self.fully_removed / self.gold, 4) if self.gold else 1.0,
                "precision": (
                    round(self.detected_on_gold / self.detected, 4) if self.detected else 1.0
                ),
            },
            "sentences_with_a_leftover": self.leaky_sentences,
            "of_which_stopped_by_residual_check": self.leaky_stopped,
            "residual_false_alarms": self.residual_false_alarms,
            "residual_flags_unscrubbed_sentences": self.residual_on_original,
            "examples_missed": self.examples_missed,
        }


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def _fully_covered(text: str, gold: GoldSpan, found: Sequence[Redaction]) -> bool:
    covered: set[int] = set()
    for r in found:
        covered.update(range(max(r.start, gold.start), min(r.end, gold.end)))
    return all(i in covered for i in range(gold.start, gold.end) if text[i].isalnum())


def evaluate(sentences: Sequence[SynthSentence], family: str = "", seed: int = 0) -> ScrubReport:
    report = ScrubReport(family, seed, len(sentences), {k: KindScore() for k in KINDS})
    for s in sentences:
        result = scrub(s.text)
        found = result.redactions
        leaked = False
        for g in s.spans:
            score = report.kinds[g.kind]
            score.gold += 1
            report.gold += 1
            over = [r for r in found if _overlaps(r.start, r.end, g.start, g.end)]
            if over:
                report.any_found += 1
            if any(r.kind == g.kind for r in over):
                score.found += 1
            if _fully_covered(s.text, g, over):
                report.fully_removed += 1
            else:
                leaked = True
                if len(report.examples_missed) < 40:
                    report.examples_missed.append(
                        f"{g.kind}: {s.text[g.start : g.end]!r} in {s.text!r}"
                    )
        for r in found:
            report.detected += 1
            score = report.kinds[r.kind]
            score.detected += 1
            on = [g for g in s.spans if _overlaps(r.start, r.end, g.start, g.end)]
            if on:
                report.detected_on_gold += 1
            if any(g.kind == r.kind for g in on):
                score.correct += 1
        refused = bool(residual(result.text))
        if leaked:
            report.leaky_sentences += 1
            report.leaky_stopped += refused
        else:
            report.residual_false_alarms += refused
        report.residual_on_original += bool(residual(s.text))
    return report


def run(n: int = 300, seed: int = 0, family: Family = "B") -> ScrubReport:
    return evaluate(generate(n, seed, family), family, seed)
