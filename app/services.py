"""Wiring: the real services, built from settings, each once.

Tests build the same objects with fakes (``DeterministicFakeEmbedding``,
``chromadb.EphemeralClient``) and pass them in; nothing is patched by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings

from app.llm import LLMBackend, embedded_backend, ollama_backend, openai_backend
from app.pipeline import Pipeline
from app.precedents import PrecedentStore
from app.retrieval import Retriever
from app.settings import Settings
from indexer.corpus import CorpusLocation, CorpusSnapshot, Progress, read_corpus
from indexer.embed import MODEL_ID, CachedEmbeddings, load_minilm
from indexer.errors import UserInputError
from indexer.fetch import HttpFetcher
from indexer.manifest import Manifest, load_manifest
from indexer.search import Searcher
from indexer.store import VectorStore, chroma_client
from indexer.update import Indexer
from indexer.update import Progress as UpdateProgress
from indexer.versions import VersionDB

if TYPE_CHECKING:
    from app.audit import AuditLog


@dataclass
class Services:
    settings: Settings
    embedder_override: Embeddings | None = None
    model_id: str = MODEL_ID
    client_override: ClientAPI | None = field(default=None, repr=False)
    llm_override: LLMBackend | None = field(default=None, repr=False)

    @cached_property
    def embedder(self) -> Embeddings:
        return self.embedder_override or load_minilm(self.settings.embed_threads)

    @cached_property
    def db(self) -> VersionDB:
        return VersionDB(self.settings.versions_db)

    @cached_property
    def store(self) -> VectorStore:
        s = self.settings
        client = self.client_override or chroma_client(
            None if s.chroma_host else s.chroma_dir, s.chroma_host, s.chroma_port
        )
        return VectorStore(client, self.embedder)

    def manifest(self) -> Manifest:
        return load_manifest(self.settings.manifest)

    def read_corpus(
        self, download: bool = False, as_of: str | None = None, progress: Progress | None = None
    ) -> tuple[Manifest, CorpusSnapshot]:
        """Read the corpus from the mirror, or download it when there is none (or asked)."""
        s = self.settings
        location = CorpusLocation(
            mirror=None if download else s.corpus_mirror,
            seeds=None if download else s.seeds_mirror,
            fetch=HttpFetcher(s.download_timeout, s.download_retries),
            as_of=as_of,
        )
        manifest = self.manifest()
        return manifest, read_corpus(manifest, location, progress)

    def indexer(self, progress: UpdateProgress | None = None) -> Indexer:
        return Indexer(
            self.db, self.store, self.embedder, self.model_id, self.settings.lock_file, progress
        )

    @cached_property
    def searcher(self) -> Searcher:
        return Searcher(self.db, self.store, self.embedder)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.searcher)

    @cached_property
    def precedents(self) -> PrecedentStore:
        cached = CachedEmbeddings(self.embedder, self.db, self.model_id)
        files = [*self.settings.precedent_files, self.settings.reviews_file]
        return PrecedentStore(self.store.client, cached, files)

    def llm(self, name: str | None = None) -> LLMBackend | None:
        s = self.settings
        choice = name or s.llm
        if choice == "none":
            return None
        if self.llm_override is not None:
            return self.llm_override
        if choice == "embedded":
            return embedded_backend(s.llm_threads)
        if choice == "openai":
            return openai_backend(s.llm_base_url, s.llm_model, s.llm_api_key, s.llm_timeout)
        if choice == "ollama":
            return ollama_backend(s.ollama_url, s.ollama_model, s.llm_timeout)
        raise UserInputError(
            f"unknown LLM backend {choice!r}", "Use embedded, openai, ollama or none."
        )

    @cached_property
    def audit(self) -> AuditLog:
        from app.audit import AuditLog

        return AuditLog(self.settings.audit_db_url)

    def record(
        self, determination: dict[str, Any], *, source: str, kind: str = "determination"
    ) -> int:
        """Write a determination to the audit trail; its record id."""
        rec = self.audit.record(
            determination, user=self.settings.requester, source=source, kind=kind
        )
        return rec.id

    def pipeline(self, llm: str | None = None) -> Pipeline:
        return Pipeline(self.retriever, self.precedents, self.llm(llm), self.model_id)
