"""Wiring: the real services, built from settings, each once.

Tests build the same objects with fakes (``DeterministicFakeEmbedding``,
``chromadb.EphemeralClient``) and pass them in; nothing is patched by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings

from app.settings import Settings
from indexer.corpus import CorpusLocation, CorpusSnapshot, Progress, read_corpus
from indexer.embed import MODEL_ID, load_minilm
from indexer.fetch import HttpFetcher
from indexer.manifest import Manifest, load_manifest
from indexer.search import Searcher
from indexer.store import VectorStore, chroma_client
from indexer.update import Indexer
from indexer.update import Progress as UpdateProgress
from indexer.versions import VersionDB


@dataclass
class Services:
    settings: Settings
    embedder_override: Embeddings | None = None
    model_id: str = MODEL_ID
    client_override: ClientAPI | None = field(default=None, repr=False)

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
