"""What changed between two corpus versions, by citation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from indexer.models import Passage
from indexer.versions import content_hash


@dataclass(frozen=True)
class Change:
    citation: str
    change: str  # "added" | "changed" | "removed"
    old_text: str | None
    new_text: str | None

    def to_json(self) -> dict[str, str | None]:
        return {
            "citation": self.citation,
            "change": self.change,
            "old_text": self.old_text,
            "new_text": self.new_text,
        }


def compare(old: Mapping[str, Passage], new: Mapping[str, Passage]) -> list[Change]:
    """Changes from ``old`` to ``new`` (both keyed by passage reference), in ``new``'s order
    with removals last."""
    out: list[Change] = []
    for ref, p in new.items():
        before = old.get(ref)
        if before is None:
            out.append(Change(ref, "added", None, p.text))
        elif content_hash(before) != content_hash(p):
            out.append(Change(ref, "changed", before.text, p.text))
    for ref, p in old.items():
        if ref not in new:
            out.append(Change(ref, "removed", p.text, None))
    return out


def counts(changes: list[Change]) -> dict[str, int]:
    return {k: sum(1 for c in changes if c.change == k) for k in ("added", "changed", "removed")}
