"""Build and update the index: versioned, incremental, atomic.

An update never touches what searches are reading.  It writes the new version's
vectors into a fresh collection (re-using cached vectors for every passage whose
text did not change), checks the collection is complete, and only then records
the version and moves the "current" pointer in one SQLite transaction.  The old
collection is dropped afterwards.  A process killed at any point therefore
leaves the previous version serving; whatever it left behind (a partial
collection, or an old one not yet dropped) is not served and is removed by the
next update, which also re-uses every vector the killed one had computed.
"""

from __future__ import annotations

import fcntl
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from indexer.changes import Change, compare, counts
from indexer.corpus import CorpusSnapshot
from indexer.embed import CachedEmbeddings
from indexer.errors import IndexStateError
from indexer.manifest import Manifest
from indexer.models import Passage
from indexer.store import COLLECTION_PREFIX, VectorStore
from indexer.versions import VersionDB, VersionInfo

# (stage, done, total): "embed" and "write" are the long steps worth a progress bar.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class UpdateReport:
    """The ``index update`` / ``index build`` JSON contract."""

    version: str | None
    previous: str | None
    changes: list[Change]
    embedded: int
    passages: int
    seconds: float
    created: bool
    cleaned: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "previous": self.previous,
            **counts(self.changes),
            "embedded": self.embedded,
            "passages": self.passages,
            "new_version": self.created,
            "seconds": round(self.seconds, 3),
            "cleaned_collections": self.cleaned,
            "changes": [c.to_json() for c in self.changes],
        }


class Indexer:
    """Writes corpus versions.  One writer at a time, enforced by a lock file."""

    def __init__(
        self,
        db: VersionDB,
        store: VectorStore,
        embedder: Embeddings,
        model_id: str,
        lock_path: Path,
        progress: Progress | None = None,
        checkpoint: Callable[[str], None] | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.embedder = embedder
        self.model_id = model_id
        self.lock_path = lock_path
        self.progress = progress
        # Called with a step name at each step boundary; tests use it to kill a real
        # update process at a chosen point (TPO_TEST_PAUSE_AT), nothing else does.
        self.checkpoint = checkpoint or (lambda _step: None)

    def build(self, snapshot: CorpusSnapshot, manifest: Manifest) -> UpdateReport:
        """A full build: every passage embedded afresh, a new version recorded."""
        return self._run(snapshot, manifest, reuse_vectors=False, force=True)

    def update(self, snapshot: CorpusSnapshot, manifest: Manifest) -> UpdateReport:
        """An incremental update: nothing is written when nothing changed."""
        return self._run(snapshot, manifest, reuse_vectors=True, force=False)

    def plan(self, snapshot: CorpusSnapshot, manifest: Manifest) -> list[Change]:
        """The changes :meth:`update` would make, writing nothing: no lock, no vectors, no
        version.  Change impact reads it so past answers can be re-checked on the old
        version before the update replaces it.  ``manifest`` mirrors :meth:`update`'s
        signature; the comparison is by passage, as in ``_run``."""
        del manifest
        current = self.db.current()
        old = {p.ref: p for p in self.db.passages(current.id)} if current else {}
        new = {p.ref: p for p in snapshot.passages}
        return compare(old, new)

    def _run(
        self, snapshot: CorpusSnapshot, manifest: Manifest, *, reuse_vectors: bool, force: bool
    ) -> UpdateReport:
        start = time.perf_counter()
        with self._lock():
            current = self.db.current()
            old = {p.ref: p for p in self.db.passages(current.id)} if current else {}
            new = {p.ref: p for p in snapshot.passages}
            changes = compare(old, new)
            cleaned = self._clean(current)
            embedder_id = self.model_id
            if current and not changes and not force and current.embedder == embedder_id:
                return UpdateReport(
                    current.id,
                    current.id,
                    [],
                    0,
                    len(new),
                    time.perf_counter() - start,
                    False,
                    cleaned,
                )
            seq = self.db.next_seq()
            version_id = f"v{seq}"
            collection = f"{COLLECTION_PREFIX}{version_id}-{uuid.uuid4().hex[:8]}"
            cached = CachedEmbeddings(
                self.embedder,
                self.db,
                embedder_id,
                reuse=reuse_vectors,
                on_batch=self._advance("embed", len(new)),
            )
            self.checkpoint("before-write")
            passages = list(snapshot.passages)
            self.store.write(collection, passages, cached, self._advance("write", len(new)))
            self.checkpoint("after-write")
            self._verify(collection, passages)
            report = {**counts(changes), "embedded": cached.embedded}
            info = self.db.commit_version(
                version_id=version_id,
                seq=seq,
                collection=collection,
                embedder=embedder_id,
                manifest={"digest": manifest.digest(), "sources": len(manifest.source)},
                sources=[s.to_json() for s in snapshot.sources],
                passages=passages,
                report=report,
            )
            self.checkpoint("after-commit")
            if current:
                self.store.drop(current.collection)
            return UpdateReport(
                info.id,
                current.id if current else None,
                changes,
                cached.embedded,
                len(passages),
                time.perf_counter() - start,
                True,
                cleaned,
            )

    def _clean(self, current: VersionInfo | None) -> list[str]:
        """Drop collections no version serves: leftovers of a killed update."""
        keep = current.collection if current else None
        stray = [name for name in self.store.collections() if name != keep]
        for name in stray:
            self.store.drop(name)
        return stray

    def _verify(self, collection: str, passages: list[Passage]) -> None:
        ids = self.store.ids(collection)
        if len(ids) != len(passages) or set(ids) != {p.ref for p in passages}:
            self.store.drop(collection)
            raise IndexStateError(
                f"the new collection holds {len(ids)} passages, expected {len(passages)}",
                "Nothing was changed; run the update again.",
            )

    def _advance(self, stage: str, total: int) -> Callable[[int], None]:
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            if self.progress:
                self.progress(stage, done, total)

        return advance

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                # The kernel releases a flock when its holder dies, even by SIGKILL.
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise IndexStateError(
                    "another index build or update is running",
                    "Wait for it to finish; searches keep using the current version meanwhile.",
                ) from exc
            yield
        finally:
            os.close(fd)


def diff_versions(db: VersionDB, v1: str, v2: str) -> list[Change]:
    """Citations changed from version ``v1`` to ``v2``, old and new text side by side."""
    for v in (v1, v2):
        if db.get(v) is None:
            known = ", ".join(x.id for x in db.all()) or "none"
            raise IndexStateError(f"no corpus version {v!r}", f"Known versions: {known}.")
    old = {p.ref: p for p in db.passages(v1)}
    new = {p.ref: p for p in db.passages(v2)}
    return compare(old, new)
