"""The record of corpus versions, in one SQLite file beside the vectors.

Each version lists the passages it holds (by reference and content hash), the
manifest and per-source dates and hashes it was built from, and which vector
collection serves it.  The pointer to the current version changes in the same
transaction that records the version, which is what makes an update atomic: a
process killed at any moment leaves either the old pointer or the new one, never
half of each.  SQLite journals guarantee this even under SIGKILL.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    select,
    update,
)

from indexer.errors import IndexStateError, disk_full
from indexer.models import Citation, Passage, SourceKind

metadata = MetaData()

versions = Table(
    "versions",
    metadata,
    Column("id", String, primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("created", String, nullable=False),
    Column("collection", String, nullable=False),
    Column("embedder", String, nullable=False),
    Column("manifest", Text, nullable=False),
    Column("sources", Text, nullable=False),
    Column("passages", Integer, nullable=False),
    Column("report", Text, nullable=False),
)
texts = Table(
    "passage_texts",
    metadata,
    Column("hash", String, primary_key=True),
    Column("body", Text, nullable=False),
)
members = Table(
    "version_passages",
    metadata,
    Column("version", String, ForeignKey("versions.id"), primary_key=True),
    Column("ref", String, primary_key=True),
    Column("hash", String, ForeignKey("passage_texts.hash"), nullable=False),
    Column("ord", Integer, nullable=False),
)
state = Table(
    "state",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", String, nullable=False),
)
vectors = Table(
    "embedding_cache",
    metadata,
    Column("key", String, primary_key=True),
    Column("vector", LargeBinary, nullable=False),
)


def passage_to_json(p: Passage) -> dict[str, Any]:
    data = asdict(p)
    data["kind"] = p.kind.value
    data["citation"] = p.citation.format() if p.citation else None
    return data


def passage_from_json(data: dict[str, Any]) -> Passage:
    cite = data.get("citation")
    return Passage(
        ref=data["ref"],
        source_id=data["source_id"],
        kind=SourceKind(data["kind"]),
        section_heading=data["section_heading"],
        text=data["text"],
        citation=Citation.parse(cite) if cite else None,
        context=tuple(data.get("context", ())),
        cross_refs=tuple(data.get("cross_refs", ())),
        as_of=data.get("as_of", ""),
        url=data.get("url", ""),
        extra=dict(data.get("extra", {})),
    )


def content_hash(p: Passage) -> str:
    """Hash of everything a passage says, so any change to text or context shows."""
    body = json.dumps(passage_to_json(p), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class VersionInfo:
    id: str
    seq: int
    created: str
    collection: str
    embedder: str
    manifest: dict[str, Any]
    sources: list[dict[str, Any]]
    passages: int
    report: dict[str, Any]


class VersionDB:
    """All reads and writes of the version record."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.engine: Engine = create_engine(f"sqlite:///{path}")
        event.listen(self.engine, "connect", _sqlite_pragmas)
        metadata.create_all(self.engine)

    # -- the current version ------------------------------------------------------
    def current(self) -> VersionInfo | None:
        with self.engine.connect() as conn:
            cur = conn.execute(select(state.c.value).where(state.c.key == "current")).scalar()
            return self._load(conn, cur) if cur else None

    def get(self, version_id: str) -> VersionInfo | None:
        with self.engine.connect() as conn:
            return self._load(conn, version_id)

    def all(self) -> list[VersionInfo]:
        with self.engine.connect() as conn:
            ids = conn.execute(select(versions.c.id).order_by(versions.c.seq)).scalars().all()
            return [v for v in (self._load(conn, i) for i in ids) if v is not None]

    def next_seq(self) -> int:
        with self.engine.connect() as conn:
            seqs = conn.execute(select(versions.c.seq)).scalars().all()
            return max(seqs, default=0) + 1

    def _load(self, conn: Any, version_id: str) -> VersionInfo | None:
        row = conn.execute(select(versions).where(versions.c.id == version_id)).mappings().first()
        if row is None:
            return None
        return VersionInfo(
            id=row["id"],
            seq=row["seq"],
            created=row["created"],
            collection=row["collection"],
            embedder=row["embedder"],
            manifest=json.loads(row["manifest"]),
            sources=json.loads(row["sources"]),
            passages=row["passages"],
            report=json.loads(row["report"]),
        )

    def passages(self, version_id: str) -> list[Passage]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(texts.c.body)
                .join(members, members.c.hash == texts.c.hash)
                .where(members.c.version == version_id)
                .order_by(members.c.ord)
            ).scalars()
            return [passage_from_json(json.loads(body)) for body in rows]

    def hashes(self, version_id: str) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(members.c.ref, members.c.hash).where(members.c.version == version_id)
            ).all()
            return {ref: h for ref, h in rows}

    # -- recording a version: one transaction, pointer last --------------------------
    def commit_version(
        self,
        *,
        version_id: str,
        seq: int,
        collection: str,
        embedder: str,
        manifest: dict[str, Any],
        sources: list[dict[str, Any]],
        passages: Sequence[Passage],
        report: dict[str, Any],
    ) -> VersionInfo:
        created = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            info = self._commit(
                version_id, seq, collection, embedder, manifest, sources, passages, report, created
            )
        except Exception as exc:
            if not disk_full(exc):
                raise
            # The transaction rolled back: the current pointer never moved.
            raise IndexStateError(
                "the disk is full: the new corpus version could not be recorded",
                "Free space where TPO_DATA_DIR lives and run the update again; the vectors "
                "already computed are cached. Nothing was changed: the index still serves "
                "its current version.",
            ) from exc
        return info

    def _commit(
        self,
        version_id: str,
        seq: int,
        collection: str,
        embedder: str,
        manifest: dict[str, Any],
        sources: list[dict[str, Any]],
        passages: Sequence[Passage],
        report: dict[str, Any],
        created: str,
    ) -> VersionInfo:
        with self.engine.begin() as conn:
            existing = set(conn.execute(select(texts.c.hash)).scalars().all())
            new_texts, rows = [], []
            for ord_, p in enumerate(passages):
                h = content_hash(p)
                if h not in existing:
                    body = json.dumps(passage_to_json(p), ensure_ascii=False)
                    new_texts.append({"hash": h, "body": body})
                    existing.add(h)
                rows.append({"version": version_id, "ref": p.ref, "hash": h, "ord": ord_})
            conn.execute(
                insert(versions).values(
                    id=version_id,
                    seq=seq,
                    created=created,
                    collection=collection,
                    embedder=embedder,
                    manifest=json.dumps(manifest),
                    sources=json.dumps(sources),
                    passages=len(passages),
                    report=json.dumps(report),
                )
            )
            if new_texts:
                conn.execute(insert(texts), new_texts)
            conn.execute(insert(members), rows)
            self._set_current(conn, version_id)
        info = self.get(version_id)
        assert info is not None
        return info

    def _set_current(self, conn: Any, version_id: str) -> None:
        done = conn.execute(
            update(state).where(state.c.key == "current").values(value=version_id)
        ).rowcount
        if not done:
            conn.execute(insert(state).values(key="current", value=version_id))

    # -- the embedding cache (see indexer.embed.CachedEmbeddings) ---------------------
    def get_vectors(self, keys: Sequence[str]) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                for key, blob in conn.execute(
                    select(vectors.c.key, vectors.c.vector).where(vectors.c.key.in_(chunk))
                ):
                    out[key] = list(struct.unpack(f"{len(blob) // 4}f", blob))
        return out

    def put_vectors(self, items: dict[str, list[float]]) -> None:
        if not items:
            return
        with self.engine.begin() as conn:
            have = set(
                conn.execute(select(vectors.c.key).where(vectors.c.key.in_(list(items)))).scalars()
            )
            rows = [
                {"key": k, "vector": struct.pack(f"{len(v)}f", *v)}
                for k, v in items.items()
                if k not in have
            ]
            if rows:
                conn.execute(insert(vectors), rows)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL: readers keep reading the committed version while an update writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
