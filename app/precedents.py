"""Labeled precedents: decided cases as a third, data-driven opinion.

The project's ``dev`` scenarios and every reviewer ruling are embedded into their
own Chroma collection.  For a new description the nearest cases, with their
labels and similarity, are shown as "similar decided cases" and cast a vote.  A
ruling takes effect on the next question: the collection is re-synced whenever
its files change.  ``test`` scenarios are refused, so evaluation stays honest.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings

from app.scenarios import Scenario, load_scenarios
from indexer.errors import TpoError

COLLECTION = "precedents"


class PrecedentError(TpoError):
    """A precedent file that must not or cannot be used."""


@dataclass(frozen=True)
class Precedent:
    id: str
    category: str
    authorization_required: bool | None
    similarity: float
    source: str
    description: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "authorization_required": self.authorization_required,
            "similarity": round(self.similarity, 4),
            "source": self.source,
            "description": self.description,
        }


@dataclass(frozen=True)
class Vote:
    category: str | None
    authorization_required: bool | None
    strength: float  # 0..1: the similarity-weighted share of the winning label


class PrecedentStore:
    def __init__(self, client: ClientAPI, embedder: Embeddings, files: Sequence[Path]) -> None:
        for f in files:
            if f.name.startswith("test"):
                raise PrecedentError(
                    f"{f}: test scenarios may never be precedents",
                    "Evaluation on the test split must stay honest; use dev files only.",
                )
        self.client = client
        self.embedder = embedder
        self.files = list(files)  # a rulings file may appear later: checked on every sync
        self._signature: str | None = None
        # The web app shares one store between sessions: two first questions at once must
        # not both create the collection, nor one query it while another rebuilds it.
        self._lock = threading.RLock()

    def _present(self) -> list[Path]:
        return [f for f in self.files if f.is_file() and f.stat().st_size > 0]

    def scenarios(self) -> list[Scenario]:
        """Every labeled scenario in the files present: dev sets and reviewers' rulings."""
        return [s for s, _src in self._load()]

    def _load(self) -> list[tuple[Scenario, str]]:
        out: list[tuple[Scenario, str]] = []
        for f in self._present():
            out.extend((s, f.name) for s in load_scenarios(f))
        return out

    def signature(self) -> str:
        h = hashlib.sha256()
        for f in self._present():
            h.update(f.name.encode())
            h.update(f.read_bytes())
        return h.hexdigest()[:16]

    def sync(self) -> int:
        """Rebuild the collection when the precedent files changed; returns its size."""
        with self._lock:
            return self._sync()

    def _sync(self) -> int:
        sig = self.signature()
        if sig == self._signature:
            return int(self.client.get_collection(COLLECTION).count())
        try:
            existing = self.client.get_collection(COLLECTION)
            if (existing.metadata or {}).get("signature") == sig:
                self._signature = sig
                return int(existing.count())
            self.client.delete_collection(COLLECTION)
        except Exception:  # not there yet
            pass
        cases = self._load()
        collection = self.client.create_collection(
            COLLECTION, metadata={"signature": sig, "hnsw:space": "cosine"}
        )
        if cases:
            vectors = self.embedder.embed_documents([s.description for s, _f in cases])
            collection.add(
                ids=[f"{src}:{s.id}" for s, src in cases],
                embeddings=vectors,  # type: ignore[arg-type]
                documents=[s.description for s, _f in cases],
                metadatas=[
                    {
                        "id": s.id,
                        "category": s.expected.category.value,
                        "authorization_required": -1
                        if s.expected.authorization_required is None
                        else int(s.expected.authorization_required),
                        "source": src,
                    }
                    for s, src in cases
                ],
            )
        self._signature = sig
        return len(cases)

    def nearest(self, description: str, k: int = 5) -> list[Precedent]:
        vector = self.embedder.embed_query(description)
        with self._lock:
            if self._sync() == 0:
                return []
            collection = self.client.get_collection(COLLECTION)
            res = collection.query(
                query_embeddings=[vector],  # type: ignore[arg-type]
                n_results=k,
            )
        out = []
        metas = (res.get("metadatas") or [[]])[0]
        docs = (res.get("documents") or [[]])[0]
        dists = (res.get("distances") or [[]])[0]
        for meta, doc, dist in zip(metas, docs, dists, strict=True):
            auth = int(meta["authorization_required"])  # type: ignore[arg-type]
            out.append(
                Precedent(
                    id=str(meta["id"]),
                    category=str(meta["category"]),
                    authorization_required=None if auth < 0 else bool(auth),
                    similarity=1.0 - float(dist),
                    source=str(meta["source"]),
                    description=str(doc),
                )
            )
        return out


def vote(precedents: Sequence[Precedent]) -> Vote:
    """Similarity-weighted majority of the nearest cases."""
    if not precedents:
        return Vote(None, None, 0.0)
    weights: dict[str, float] = {}
    for p in precedents:
        weights[p.category] = weights.get(p.category, 0.0) + max(p.similarity, 0.0)
    total = sum(weights.values()) or 1.0
    category = max(weights, key=lambda c: weights[c])
    same = [
        p for p in precedents if p.category == category and p.authorization_required is not None
    ]
    auth = None
    if same:
        yes = sum(p.similarity for p in same if p.authorization_required)
        no = sum(p.similarity for p in same if not p.authorization_required)
        auth = yes >= no
    top = max(p.similarity for p in precedents if p.category == category)
    return Vote(category, auth, round(weights[category] / total * top, 4))
