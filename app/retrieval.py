"""Retrieval for classification: the passages an answer may cite.

Three sources, in this order: the hybrid search of the description (expanded with
the glossary of staff language), the provisions the rules relied on (so the
definitions of the categories in play are always in front of the reader), and
one hop of cross-references from the best law passages (164.506(a) sends the
reader to 164.508(a)(2)-(4)).  Every passage gets a short id (P1, P2, ...) that
the LLM must cite by; nothing outside this list can be cited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from indexer.errors import CitationError
from indexer.models import Citation, Passage
from indexer.search import Searcher

DEFAULT_GLOSSARY = Path(__file__).resolve().parents[1] / "corpus" / "glossary.yaml"


# The provision that defines each category, so the definitions of every category in play
# (the rules', the precedents') are always in front of the reader.
DEFINITIONS: dict[str, str] = {
    "treatment": '45 CFR 164.501 "treatment"',
    "payment": '45 CFR 164.501 "payment"',
    "health_care_operations": '45 CFR 164.501 "health care operations"',
    "marketing": '45 CFR 164.501 "marketing"',
    "sale_of_phi": "45 CFR 164.502(a)(5)(ii)",
    "research": '45 CFR 164.501 "research"',
    "psychotherapy_notes": '45 CFR 164.501 "psychotherapy notes"',
    "public_interest": "45 CFR 164.512",
    "individual_involvement": "45 CFR 164.510(b)",
    "to_individual": "45 CFR 164.524(a)(1)",
    "de_identified": "45 CFR 164.514(a)",
}


@dataclass(frozen=True)
class Retrieved:
    pid: str
    passage: Passage
    reason: str  # "search" | "rules" | "definition" | "cross-reference"
    score: float = 0.0


@dataclass(frozen=True)
class Retrieval:
    version: str
    query: str
    passages: tuple[Retrieved, ...]

    def by_pid(self) -> dict[str, Retrieved]:
        return {r.pid: r for r in self.passages}


@lru_cache(maxsize=4)
def load_glossary(path: Path = DEFAULT_GLOSSARY) -> tuple[tuple[re.Pattern[str], str], ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple((re.compile(k, re.IGNORECASE), v) for k, v in data["terms"].items())


def expand_query(description: str, glossary: Sequence[tuple[re.Pattern[str], str]]) -> str:
    """The description plus the regulatory terms its staff words stand for."""
    extra = [terms for pattern, terms in glossary if pattern.search(description)]
    return " ".join([description, *dict.fromkeys(extra)])


class Retriever:
    def __init__(
        self,
        searcher: Searcher,
        glossary: Sequence[tuple[re.Pattern[str], str]] | None = None,
        k: int = 6,
        per_citation: int = 2,
        max_cross_refs: int = 3,
    ) -> None:
        self.searcher = searcher
        self.glossary = glossary if glossary is not None else load_glossary()
        self.k = k
        self.per_citation = per_citation
        self.max_cross_refs = max_cross_refs

    def retrieve(
        self,
        description: str,
        rule_citations: Sequence[str] = (),
        categories: Sequence[str] = (),
    ) -> Retrieval:
        query = expand_query(description, self.glossary)
        version, hits = self.searcher.search(query, k=self.k)
        _info, by_ref, _kw = self.searcher.version()
        law = [p for p in by_ref.values() if p.citation is not None]
        chosen: dict[str, tuple[Passage, str, float]] = {}
        for h in hits:
            chosen.setdefault(h.passage.ref, (h.passage, "search", h.score))
        for text in rule_citations:
            for p in _passages_for(text, law)[: self.per_citation]:
                chosen.setdefault(p.ref, (p, "rules", 0.0))
        for category in categories:
            for p in _passages_for(DEFINITIONS.get(category, ""), law)[:1]:
                chosen.setdefault(p.ref, (p, "definition", 0.0))
        followed = 0
        for h in hits:
            for xref in h.passage.cross_refs:
                if followed >= self.max_cross_refs:
                    break
                for p in _passages_for(xref, law)[:1]:
                    if p.ref not in chosen:
                        chosen[p.ref] = (p, "cross-reference", 0.0)
                        followed += 1
        passages = tuple(
            Retrieved(f"P{i}", p, reason, score)
            for i, (p, reason, score) in enumerate(chosen.values(), start=1)
        )
        return Retrieval(version, query, passages)


def _passages_for(text: str, law: Sequence[Passage]) -> list[Passage]:
    """Passages at or below the cited paragraph, the paragraph itself first."""
    try:
        cite = Citation.parse(text)
    except CitationError:
        return []
    found = [
        p
        for p in law
        if p.citation is not None
        and cite.matches(p.citation)
        and len(cite.path) <= len(p.citation.path)
    ]
    return sorted(found, key=lambda p: len(p.citation.path) if p.citation else 0)
