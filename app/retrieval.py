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


@dataclass(frozen=True)
class Retrieved:
    pid: str
    passage: Passage
    reason: str  # "search" | "rules" | "cross-reference"
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

    def retrieve(self, description: str, rule_citations: Sequence[str] = ()) -> Retrieval:
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
