"""Hybrid search over the current corpus version: dense vectors + BM25, fused by rank.

Dense retrieval finds paraphrases ("drug company pays for the mailer"); keywords
find the exact terms of art a dense model blurs ("psychotherapy notes",
"limited data set").  Reciprocal rank fusion combines the two rankings without
having to calibrate their scores against each other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings
from rank_bm25 import BM25Okapi

from indexer.errors import IndexStateError
from indexer.models import Passage
from indexer.store import CollectionGone, VectorStore
from indexer.versions import VersionDB, VersionInfo

RRF_K = 60
_STOP = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was "
    "were will with which who whom may must shall not no any such other than under".split()
)


def tokenize(text: str) -> list[str]:
    return [t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in _STOP]


@dataclass(frozen=True)
class SearchHit:
    passage: Passage
    score: float
    dense_rank: int | None
    keyword_rank: int | None
    dense_distance: float | None

    def to_json(self) -> dict[str, Any]:
        p = self.passage
        return {
            "ref": p.ref,
            "citation": p.citation.format() if p.citation else None,
            "kind": p.kind.value,
            "is_law": p.is_law,
            "source_id": p.source_id,
            "text": p.text,
            "context": list(p.context),
            "as_of": p.as_of,
            "url": p.url,
            "dense_rank": self.dense_rank,
            "keyword_rank": self.keyword_rank,
            "score": round(self.score, 6),
        }


class KeywordIndex:
    """BM25 over one version's passages, with their lead-ins and section headings."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        docs = [
            tokenize(" ".join((p.ref, p.section_heading, *p.context, p.text))) for p in passages
        ]
        self.bm25 = BM25Okapi(docs)

    def rank(self, query: str, n: int) -> list[str]:
        terms = tokenize(query)
        if not terms:
            return []
        scores = self.bm25.get_scores(terms)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        return [self.passages[i].ref for i in order[:n] if scores[i] > 0]


class Searcher:
    """Answers from whatever version is current when the search starts."""

    def __init__(self, db: VersionDB, store: VectorStore, embedder: Embeddings) -> None:
        self.db = db
        self.store = store
        self.embedder = embedder
        self._loaded: tuple[VersionInfo, dict[str, Passage], KeywordIndex] | None = None

    def version(self) -> tuple[VersionInfo, dict[str, Passage], KeywordIndex]:
        current = self.db.current()
        if current is None:
            raise IndexStateError("there is no index yet", "Run `tpo index build` first.")
        if self._loaded is None or self._loaded[0].id != current.id:
            passages = self.db.passages(current.id)
            self._loaded = (current, {p.ref: p for p in passages}, KeywordIndex(passages))
        return self._loaded

    def search(self, query: str, k: int = 5, candidates: int = 40) -> tuple[str, list[SearchHit]]:
        """The ``k`` best passages for ``query`` and the version that answered."""
        if not query.strip():
            raise IndexStateError("the query is empty", "Ask a question or describe an activity.")
        vector = self.embedder.embed_query(query)
        for attempt in (1, 2):
            info, by_ref, keywords = self.version()
            try:
                dense = self.store.query(info.collection, vector, candidates)
                break
            except CollectionGone:
                # An update switched versions between our lookup and the query.
                if attempt == 2:
                    raise
        return info.id, fuse(dense, keywords.rank(query, candidates), by_ref, k)


def fuse(
    dense: list[tuple[str, float]], keyword: list[str], by_ref: dict[str, Passage], k: int
) -> list[SearchHit]:
    """Reciprocal rank fusion of a dense and a keyword ranking."""
    dense_rank = {ref: i + 1 for i, (ref, _d) in enumerate(dense)}
    distance = dict(dense)
    keyword_rank = {ref: i + 1 for i, ref in enumerate(keyword)}
    scores: dict[str, float] = {}
    for ranks in (dense_rank, keyword_rank):
        for ref, rank in ranks.items():
            scores[ref] = scores.get(ref, 0.0) + 1.0 / (RRF_K + rank)
    best = sorted(scores, key=lambda r: -scores[r])
    return [
        SearchHit(
            by_ref[ref], scores[ref], dense_rank.get(ref), keyword_rank.get(ref), distance.get(ref)
        )
        for ref in best
        if ref in by_ref
    ][:k]
