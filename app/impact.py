"""Change impact: which past answers a change in the law puts in question.

When a corpus update changes or removes passages, every recorded determination and every
labeled scenario whose citations touch a changed paragraph is found (the prefix matching of
LABELS.md: a citation of ``45 CFR 164.506(c)`` is touched by a change to ``164.506(c)(4)``,
and the other way round), classified again, and compared.  An answer *moved* when its
category, its authorization or the provisions it cites changed.  Added passages touch nothing
already decided and are ignored.

The update itself sits between the two classifications, so the flow is in steps the caller
drives (``tpo index update`` and the web app's Corpus page)::

    changes = indexer.plan(snapshot, manifest)          # nothing written
    items = affected_items(changes, audit, scenarios)   # who cites what changed
    items = with_before(items, classify)                # on the old version (optional)
    indexer.update(snapshot, manifest)
    report = with_after(changes, items, classify)       # on the new version

:func:`run_impact` does the last three steps at once for callers that can classify on both
versions side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from app.audit import AuditLog, AuditRecord
from app.scenarios import Scenario
from indexer.changes import Change
from indexer.errors import CitationError
from indexer.models import Citation

Classify = Callable[[str], dict[str, Any]]
COUNTED = ("changed", "removed")


@dataclass(frozen=True)
class Affected:
    """One past answer that cites a changed provision.

    ``before`` is the answer before the change: the recorded answer of a determination (and
    the reviewer's ruling on it, if any), or a scenario's classification on the old version
    when one was made, else its expected label.  ``basis`` says which.  ``after`` is its
    classification on the new version.
    """

    kind: Literal["determination", "scenario"]
    id: str
    description: str
    citations_touched: list[str]
    before: dict[str, Any]
    after: dict[str, Any] | None = None
    moved: bool = False
    basis: Literal["recorded", "classified", "expected"] = "recorded"
    expected: dict[str, Any] | None = None
    why_moved: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "description": self.description,
            "citations_touched": self.citations_touched,
            "before": self.before,
            "basis": self.basis,
            "after": self.after,
            "moved": self.moved,
            "why_moved": self.why_moved,
            "expected": self.expected,
        }


@dataclass(frozen=True)
class ImpactReport:
    changed_citations: list[str]
    affected: list[Affected]

    @property
    def moved(self) -> list[Affected]:
        return [a for a in self.affected if a.moved]

    def to_json(self) -> dict[str, Any]:
        return {
            "changed_citations": self.changed_citations,
            "affected": [a.to_json() for a in self.affected],
            "counts": {
                "determinations": sum(1 for a in self.affected if a.kind == "determination"),
                "scenarios": sum(1 for a in self.affected if a.kind == "scenario"),
                "rerun": sum(1 for a in self.affected if a.after is not None),
                "moved": len(self.moved),
            },
        }


def _parse(text: str) -> Citation | None:
    try:
        return Citation.parse(text)
    except CitationError:
        return None  # a guidance passage reference: compared by exact reference only


def changed_refs(changes: Sequence[Change]) -> list[str]:
    return [c.citation for c in changes if c.change in COUNTED]


def touched(changes: Sequence[Change], citations: Sequence[str]) -> list[str]:
    """The ``citations`` a changed or removed passage falls under, or that fall under it."""
    refs = changed_refs(changes)
    parsed = [p for p in (_parse(r) for r in refs) if p is not None]
    out: list[str] = []
    for text in citations:
        if text in out:
            continue
        cite = _parse(text)
        if text in refs or (cite is not None and any(cite.matches(p) for p in parsed)):
            out.append(text)
    return out


def answer_of(determination: dict[str, Any]) -> dict[str, Any]:
    """What counts as the answer in a ``Determination.to_json()``: category, authorization
    and the provisions cited (in order, without repeats)."""
    cites: list[str] = []
    for c in determination.get("citations") or []:
        text = c.get("citation") if isinstance(c, dict) else c
        if isinstance(text, str) and text not in cites:
            cites.append(text)
    return {
        "category": determination.get("category"),
        "authorization_required": determination.get("authorization_required"),
        "citations": cites,
    }


def _determination_citations(rec: AuditRecord) -> list[str]:
    """The provisions a recorded answer rests on: those it cited and those its rules used."""
    out = list(answer_of(rec.payload)["citations"])
    rules = rec.payload.get("rules")
    for text in rules.get("citations", []) if isinstance(rules, dict) else []:
        if isinstance(text, str) and text not in out:
            out.append(text)
    return out


def affected_items(
    changes: Sequence[Change], audit: AuditLog | None, scenarios: Sequence[Scenario]
) -> list[Affected]:
    """Every recorded determination and scenario citing a changed or removed provision."""
    if not changed_refs(changes):
        return []
    out: list[Affected] = []
    if audit is not None:
        for rec in audit.records():
            if rec.kind not in ("determination", "batch"):
                continue
            hit = touched(changes, _determination_citations(rec))
            if not hit:
                continue
            before = answer_of(rec.payload)
            rulings = audit.rulings(rec.id)
            if rulings:
                last = rulings[-1]
                before["ruling"] = {
                    "category": last.category,
                    "authorization_required": last.authorization_required,
                    "reviewer": last.user,
                    "id": last.id,
                }
            out.append(Affected("determination", str(rec.id), rec.description, hit, before))
    for s in scenarios:
        hit = touched(changes, s.expected.citations)
        if not hit:
            continue
        expected = {
            "category": s.expected.category.value,
            "authorization_required": s.expected.authorization_required,
            "citations": list(s.expected.citations),
        }
        out.append(
            Affected(
                "scenario",
                s.id,
                s.description,
                hit,
                expected,
                basis="expected",
                expected=expected,
            )
        )
    return out


def with_before(items: Sequence[Affected], classify_before: Classify) -> list[Affected]:
    """Classify the affected scenarios on the version about to be replaced.  Recorded
    determinations keep their recorded answer: that is what was told to the user."""
    return [
        replace(a, before=answer_of(classify_before(a.description)), basis="classified")
        if a.kind == "scenario"
        else a
        for a in items
    ]


def _cites_moved(before: Sequence[str], after: Sequence[str], *, one_way: bool) -> bool:
    """Cited provisions moved when one side cites something the other does not match.

    An expected label cites broadly (``45 CFR 164.501``) where answers cite paragraphs, so
    against one only a lost expected provision counts (``one_way``)."""
    b = [p for p in (_parse(x) for x in before) if p is not None]
    a = [p for p in (_parse(x) for x in after) if p is not None]
    lost = any(not any(x.matches(y) for y in a) for x in b)
    gained = any(not any(y.matches(x) for x in b) for y in a)
    return lost or (gained and not one_way)


def compare(before: dict[str, Any], after: dict[str, Any], basis: str) -> list[str]:
    why: list[str] = []
    if before.get("category") != after.get("category"):
        why.append(f"category {before.get('category')} → {after.get('category')}")
    b_auth = before.get("authorization_required")
    if b_auth is not None and b_auth != after.get("authorization_required"):
        why.append(f"authorization {b_auth} → {after.get('authorization_required')}")
    if _cites_moved(
        before.get("citations") or [], after.get("citations") or [], one_way=basis == "expected"
    ):
        why.append("cited provisions changed")
    return why


def with_after(
    changes: Sequence[Change], items: Sequence[Affected], classify_after: Classify
) -> ImpactReport:
    """Classify every affected item on the new version and say which answers moved."""
    done: list[Affected] = []
    for a in items:
        after = answer_of(classify_after(a.description))
        why = compare(a.before, after, a.basis)
        done.append(replace(a, after=after, moved=bool(why), why_moved=why))
    return ImpactReport(changed_refs(changes), done)


def run_impact(
    changes: Sequence[Change],
    audit: AuditLog | None,
    scenarios: Sequence[Scenario],
    classify_before: Classify | None,
    classify_after: Classify,
) -> ImpactReport:
    """All steps at once: find, classify before (when given), classify after, compare."""
    items = affected_items(changes, audit, scenarios)
    if classify_before is not None:
        items = with_before(items, classify_before)
    return with_after(changes, items, classify_after)
