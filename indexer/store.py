"""Chroma, wrapped: one collection per corpus version.

Searches read the collection the current version names; an update writes a new
collection beside it and the version record switches over only once the new one
is complete (see :mod:`indexer.update`).  Chroma's own default embedding
function would download a model, so ours is always passed, and telemetry is off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from indexer.errors import IndexStateError, disk_full
from indexer.models import Passage

COLLECTION_PREFIX = "tpo-"
ADD_BATCH = 128


def chroma_client(path: Path | None = None, host: str | None = None, port: int = 8000) -> ClientAPI:
    """Embedded (``path``), server (``host``), or in memory (neither) for tests."""
    settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if host:
            return chromadb.HttpClient(host=host, port=port, settings=settings)
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=settings)
        return chromadb.EphemeralClient(settings=settings)
    except Exception as exc:  # chromadb raises bare ValueError/ConnectionError subclasses
        where = f"the Chroma server at {host}:{port}" if host else f"the store at {path}"
        raise IndexStateError(
            f"cannot open {where}: {exc}",
            "Start the server (`chroma run --path DIR --port N`) or unset TPO_CHROMA_HOST."
            if host
            else "Check the data directory (TPO_DATA_DIR) is writable.",
        ) from exc


class VectorStore:
    """Dense vectors of passages in Chroma collections named after corpus versions."""

    def __init__(self, client: ClientAPI, embeddings: Embeddings) -> None:
        self.client = client
        self.embeddings = embeddings

    def _langchain(
        self, name: str, embeddings: Embeddings | None = None, create: bool = False
    ) -> Chroma:
        return Chroma(
            client=self.client,
            collection_name=name,
            embedding_function=embeddings or self.embeddings,
            collection_metadata={"hnsw:space": "cosine"},
            create_collection_if_not_exists=create,
        )

    def collections(self) -> list[str]:
        return sorted(
            c.name if hasattr(c, "name") else str(c)
            for c in self.client.list_collections()
            if (c.name if hasattr(c, "name") else str(c)).startswith(COLLECTION_PREFIX)
        )

    def write(
        self,
        name: str,
        passages: Sequence[Passage],
        embeddings: Embeddings,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        """Fill a new collection; ``embeddings`` may be a cache in front of the model.

        A full disk is the likeliest failure here (the vectors, the embedding cache and
        Chroma's files all grow during an update); it becomes one clear message, and the
        half-written collection is dropped, since no version names it yet.
        """
        store = self._langchain(name, embeddings, create=True)
        try:
            for start in range(0, len(passages), ADD_BATCH):
                batch = passages[start : start + ADD_BATCH]
                store.add_texts(
                    texts=[p.embedding_text() for p in batch],
                    metadatas=[_metadata(p) for p in batch],
                    ids=[p.ref for p in batch],
                )
                if on_progress:
                    on_progress(len(batch))
        except Exception as exc:
            if not disk_full(exc):
                raise
            self.drop(name)
            raise IndexStateError(
                f"the disk is full: writing the vectors of the new version stopped ({exc})",
                "Free space where the index lives (TPO_DATA_DIR, or the Chroma server's "
                "--path), then run the update again; the vectors already computed are cached. "
                "Nothing was changed: the index still serves its current version.",
            ) from exc

    def count(self, name: str) -> int:
        return int(self.client.get_collection(name).count())

    def ids(self, name: str) -> list[str]:
        return list(self.client.get_collection(name).get(include=[])["ids"])

    def drop(self, name: str) -> None:
        try:
            self.client.delete_collection(name)
        except Exception:  # already gone: the goal is reached either way
            return

    def query(self, name: str, vector: list[float], k: int) -> list[tuple[str, float]]:
        """(ref, cosine distance) of the ``k`` nearest passages."""
        try:
            hits = self._langchain(name).similarity_search_by_vector_with_relevance_scores(
                vector, k=k
            )
        except Exception as exc:
            down = self.server_down()
            if down is not None:
                raise down from exc
            raise CollectionGone(name) from exc
        return [(str(doc.id), float(dist)) for doc, dist in hits]

    def server_down(self) -> IndexStateError | None:
        """When the client is a Chroma server that no longer answers, the error to show.

        A failed query otherwise reads as "collection replaced, retry", which sends a
        user retrying against a server that is not there.
        """
        settings = self.client.get_settings()
        if settings.chroma_api_impl is None or "fastapi" not in settings.chroma_api_impl.lower():
            return None
        where = f"{settings.chroma_server_host}:{settings.chroma_server_http_port}"
        try:
            self.client.heartbeat()
        except Exception as exc:
            return IndexStateError(
                f"the Chroma server at {where} does not answer ({type(exc).__name__})",
                f"Start it again (`chroma run --path DIR --host {settings.chroma_server_host} "
                f"--port {settings.chroma_server_http_port}`) or unset TPO_CHROMA_HOST to use "
                "the embedded store.",
            )
        return None


class CollectionGone(IndexStateError):
    """The collection was replaced by a newer version between lookup and query."""

    def __init__(self, name: str) -> None:
        super().__init__(f"collection {name} is no longer available", "Retry the search.")


def _metadata(p: Passage) -> dict[str, Any]:
    return {
        "ref": p.ref,
        "source_id": p.source_id,
        "kind": p.kind.value,
        "citation": p.citation.format() if p.citation else "",
        "as_of": p.as_of,
    }
