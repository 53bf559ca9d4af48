"""The audit trail: every determination and every reviewer ruling, append-only, hash-chained.

The seed articles ask a covered entity to document every activity it classified and to keep
an audit trail; 164.530(j) asks it to keep the documentation of its privacy decisions for six
years.  A trail is only worth keeping if an edit to it can be seen, so each record carries
``hash = sha256(prev_hash + canonical JSON of its fields)``: changing, inserting, deleting or
re-ordering a record breaks the chain at that record, and :meth:`AuditLog.verify` names it.
The fields are hashed as the JSON values an export shows, so anyone holding an export can
re-compute the chain without this code.

A one-row *head* table holds the last sequence number and hash.  It is the lock appends take
(``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL), so two processes
appending at once never fork the chain, and it lets ``verify`` notice records cut off the
end of the trail, which a chain alone cannot.  Someone who can rewrite the whole database,
head included, can forge a consistent chain; note the head hash ``verify`` prints (or keep
exports) somewhere else to anchor it.

Nothing un-scrubbed is stored: the determination passes through :func:`app.scrub.scrub_json`
before it is written (defence in depth: the pipeline scrubs the description already), and
the description stored is the pipeline's ``scrubbed_description``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, TextIO

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    ProgrammingError,
    SQLAlchemyError,
)

from app.models import Category
from app.scrub import scrub_determination, scrub_json
from indexer.errors import TpoError

GENESIS = "0" * 64  # the prev_hash of the first record
RECORD_KINDS = ("determination", "ruling", "batch")
QUEUE_STATUSES = ("needs_review", "insufficient_facts")
# The fields covered by a record's hash, in the order exports show them.
HASHED = (
    "id",
    "seq",
    "time",
    "user",
    "source",
    "kind",
    "description",
    "category",
    "authorization_required",
    "status",
    "corpus_version",
    "model_id",
    "rules_version",
    "prompt_hash",
    "retrieved",
    "payload",
    "refers_to",
)
JSON_FIELDS = ("model_id", "retrieved", "payload")
EXPORT_COLUMNS = (*HASHED, "prev_hash", "hash")


class AuditError(TpoError):
    """The audit trail cannot be read or written, or a request about it cannot be met."""


metadata = MetaData()
records_table = Table(
    "audit_records",
    metadata,
    # id == seq by construction: id is what people and rulings refer to, seq the position in
    # the chain; both are hashed, so renumbering either shows.
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False, unique=True),
    Column("time", String(40), nullable=False, index=True),
    Column("user", String(200), nullable=False, index=True),
    Column("source", String(40), nullable=False),
    Column("kind", String(20), nullable=False, index=True),
    Column("description", Text, nullable=False),
    Column("category", String(40), index=True),
    Column("authorization_required", Boolean),
    Column("status", String(40), index=True),
    Column("corpus_version", String(40)),
    # JSON stored as the canonical text that was hashed: a JSON column type could re-format
    # it (PostgreSQL jsonb re-orders keys), and the stored text is what an auditor checks.
    Column("model_id", Text, nullable=False),
    Column("rules_version", String(80)),
    Column("prompt_hash", String(80)),
    Column("retrieved", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("refers_to", Integer, index=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
head_table = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)


def canonical(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(fields)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the trail: a determination, a batch item, or a reviewer's ruling."""

    id: int
    seq: int
    time: str
    user: str
    kind: str
    description: str
    category: str | None
    authorization_required: bool | None
    status: str | None
    corpus_version: str | None
    model_id: dict[str, Any]
    rules_version: str | None
    prompt_hash: str | None
    retrieved: list[dict[str, Any]]
    payload: dict[str, Any]
    refers_to: int | None
    prev_hash: str
    hash: str
    source: str = "cli"

    def fields(self) -> dict[str, Any]:
        """What the hash covers."""
        return {name: getattr(self, name) for name in HASHED}

    def to_json(self) -> dict[str, Any]:
        return {**self.fields(), "prev_hash": self.prev_hash, "hash": self.hash}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditRecord:
        return cls(**{k: data[k] for k in EXPORT_COLUMNS})


@dataclass(frozen=True)
class Problem:
    """One break in the chain, naming the record it is at."""

    seq: int
    record_id: int | None
    kind: Literal["edited", "inserted", "deleted", "reordered"]
    detail: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    checked: int
    problems: list[Problem] = field(default_factory=list)
    head_seq: int = 0
    head_hash: str = GENESIS

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "problems": [p.to_json() for p in self.problems],
        }


# Every string a user's words could reach is scrubbed again before it is stored.
scrubbed = scrub_determination


def _retrieved(determination: dict[str, Any]) -> list[dict[str, Any]]:
    scored = determination.get("retrieved_scores")
    if scored:
        return [{"ref": r.get("ref"), "score": r.get("score")} for r in scored]
    return [{"ref": ref, "score": None} for ref in determination.get("retrieved") or []]


def _as_bound(value: str | date | datetime, *, upper: bool) -> tuple[str, bool]:
    """A filter bound as an ISO text to compare with; a bare date as an upper bound means the
    whole day (``< next day``).  Returns (text, strict)."""
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
        return when.astimezone(UTC).isoformat(), False
    if isinstance(value, date):
        day = value
    else:
        text = value.strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
            else:
                return _as_bound(datetime.fromisoformat(text), upper=upper)
        except ValueError as exc:
            raise AuditError(
                f"not a date or time: {value!r}", "Use YYYY-MM-DD or YYYY-MM-DDTHH:MM."
            ) from exc
    if upper:
        return (day + timedelta(days=1)).isoformat(), True
    return day.isoformat(), False


def _describe(exc: BaseException) -> str:
    """The driver's own message, first line only (no SQL, no parameters: they may hold text
    a user typed)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class AuditLog:
    """The trail in any SQLAlchemy database: SQLite by default, PostgreSQL by URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = self._engine(url)
        for attempt in range(3):
            try:
                with self._write() as conn:
                    metadata.create_all(conn)
                    if conn.execute(select(head_table.c.id)).first() is None:
                        conn.execute(insert(head_table).values(id=1, seq=0, hash=GENESIS))
                return
            except (IntegrityError, ProgrammingError) as exc:
                # Another process created the tables or the head row at the same moment
                # (PostgreSQL); the next attempt finds them.
                if attempt == 2:
                    raise self._error("cannot open the audit trail", exc) from None
            except (SQLAlchemyError, OSError) as exc:
                raise self._error("cannot open the audit trail", exc) from None

    # --- connections ---------------------------------------------------------------------

    @staticmethod
    def _engine(url: str) -> Engine:
        try:
            if url.startswith("sqlite"):
                engine = create_engine(url, connect_args={"timeout": 60})

                @event.listens_for(engine, "connect")
                def _no_implicit_begin(dbapi_conn: Any, _record: Any) -> None:
                    # pysqlite's own BEGIN is deferred: two appenders could both read the
                    # head and fork the chain.  We issue BEGIN ourselves, below.
                    dbapi_conn.isolation_level = None

                @event.listens_for(engine, "begin")
                def _begin(conn: Connection) -> None:
                    lock = conn.get_execution_options().get("tpo_write", False)
                    conn.exec_driver_sql("BEGIN IMMEDIATE" if lock else "BEGIN")

                return engine
            return create_engine(url, pool_pre_ping=True)
        except (ArgumentError, ImportError) as exc:
            raise AuditError(
                f"cannot use the audit database URL {url!r}: {exc}",
                "Set TPO_AUDIT_URL to sqlite:///PATH or postgresql+psycopg://USER@HOST/DB.",
            ) from None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(tpo_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except (SQLAlchemyError, OSError) as exc:
            raise self._error("cannot read the audit trail", exc) from None

    def _error(self, what: str, exc: BaseException) -> AuditError:
        where = self.engine.url.render_as_string(hide_password=True)
        detail = _describe(exc)
        corrupt = isinstance(exc, DBAPIError) and any(
            s in detail.lower() for s in ("not a database", "malformed", "corrupt", "encrypted")
        )
        if corrupt:
            return AuditError(
                f"{what}: the audit database {where} is damaged ({detail})",
                "Nothing was changed or overwritten. Restore the file from a backup, or move it "
                "aside (it is kept as evidence) and a new trail starts at the next answer.",
            )
        return AuditError(
            f"{what} at {where} ({detail})",
            "Check TPO_AUDIT_URL, that the database server runs and that the file or database "
            "is readable and writable; nothing was written.",
        )

    # --- appending -----------------------------------------------------------------------

    def record(
        self,
        determination: dict[str, Any],
        *,
        user: str,
        source: str = "cli",
        kind: str = "determination",
    ) -> AuditRecord:
        """Append one determination (``Determination.to_json()``), scrubbed again first."""
        if kind not in ("determination", "batch"):
            raise ValueError(f"record() appends determinations or batch items, not {kind!r}")
        if "scrubbed_description" not in determination:
            # A programming error, not a user's: the pipeline must hand over what it scrubbed.
            raise ValueError("the determination has no scrubbed_description; refusing to record")
        clean = scrubbed(determination)
        return self._append(
            {
                "user": user,
                "source": source,
                "kind": kind,
                "description": clean["scrubbed_description"],
                "category": clean.get("category"),
                "authorization_required": clean.get("authorization_required"),
                "status": clean.get("status"),
                "corpus_version": clean.get("corpus_version"),
                "model_id": clean.get("model_id") or {},
                "rules_version": clean.get("rules_version"),
                "prompt_hash": clean.get("prompt_hash"),
                "retrieved": _retrieved(clean),
                "payload": clean,
                "refers_to": None,
            }
        )

    def rule(
        self,
        determination_id: int,
        *,
        reviewer: str,
        category: str,
        authorization_required: bool,
        note: str,
    ) -> AuditRecord:
        """Append a reviewer's ruling on a recorded determination; the earlier record stays."""
        try:
            label = Category(category)
        except ValueError:
            raise AuditError(
                f"unknown category {category!r}",
                "Use one of: " + ", ".join(c.value for c in Category) + ".",
            ) from None
        target = self.get(determination_id)
        if target is None or target.kind not in ("determination", "batch"):
            raise AuditError(
                f"no recorded determination with id {determination_id}",
                "`tpo audit list` shows the ids; rulings are made on determinations.",
            )
        payload: dict[str, Any] = scrub_json(
            {
                "determination_id": determination_id,
                "reviewer": reviewer,
                "category": label.value,
                "authorization_required": authorization_required,
                "note": note,
                "before": {
                    "category": target.category,
                    "authorization_required": target.authorization_required,
                    "status": target.status,
                },
            }
        )
        return self._append(
            {
                "user": reviewer,
                "source": "review",
                "kind": "ruling",
                "description": target.description,
                "category": label.value,
                "authorization_required": authorization_required,
                "status": "ruled",
                "corpus_version": target.corpus_version,
                "model_id": target.model_id,
                "rules_version": target.rules_version,
                "prompt_hash": target.prompt_hash,
                "retrieved": [],
                "payload": payload,
                "refers_to": determination_id,
            }
        )

    def _append(self, values: dict[str, Any]) -> AuditRecord:
        time = datetime.now(UTC).isoformat(timespec="microseconds")
        # Round-trip the JSON fields so the record returned, the hash and what a later read
        # gives are the very same values (tuples become lists, and so on).
        for name in JSON_FIELDS:
            values[name] = json.loads(canonical(values[name]))
        try:
            with self._write() as conn:
                # The lock: SQLite already holds its write lock (BEGIN IMMEDIATE); on
                # PostgreSQL the head row is locked until this transaction ends.
                head = conn.execute(
                    select(head_table.c.seq, head_table.c.hash)
                    .where(head_table.c.id == 1)
                    .with_for_update()
                ).one()
                seq = int(head.seq) + 1
                fields = {"id": seq, "seq": seq, "time": time, **values}
                fields = {name: fields[name] for name in HASHED}
                digest = chain_hash(head.hash, fields)
                row = {**fields, "prev_hash": head.hash, "hash": digest}
                for name in JSON_FIELDS:
                    row[name] = canonical(fields[name])
                conn.execute(insert(records_table).values(**row))
                conn.execute(
                    update(head_table).where(head_table.c.id == 1).values(seq=seq, hash=digest)
                )
        except (SQLAlchemyError, OSError) as exc:
            raise self._error("cannot write to the audit trail", exc) from None
        return AuditRecord(**fields, prev_hash=head.hash, hash=digest)

    # --- reading -------------------------------------------------------------------------

    @staticmethod
    def _from_row(row: Any) -> AuditRecord:
        data = dict(row._mapping)
        for name in JSON_FIELDS:
            data[name] = json.loads(data[name])
        return AuditRecord(**data)

    def get(self, record_id: int) -> AuditRecord | None:
        with self._read() as conn:
            row = conn.execute(select(records_table).where(records_table.c.id == record_id)).first()
        return self._from_row(row) if row is not None else None

    def records(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        user: str | None = None,
        category: str | None = None,
        since: str | date | datetime | None = None,
        until: str | date | datetime | None = None,
        text: str | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        """Records oldest first; with ``limit``, the newest ``limit`` of those matching."""
        t = records_table
        query = select(t)
        if kind:
            query = query.where(t.c.kind == kind)
        if status:
            query = query.where(t.c.status == status)
        if user:
            query = query.where(t.c.user == user)
        if category:
            query = query.where(t.c.category == category)
        if since is not None:
            low, _ = _as_bound(since, upper=False)
            query = query.where(t.c.time >= low)
        if until is not None:
            high, strict = _as_bound(until, upper=True)
            query = query.where(t.c.time < high if strict else t.c.time <= high)
        if text:
            query = query.where(func.lower(t.c.description).contains(text.lower(), autoescape=True))
        if limit is not None:
            query = query.order_by(t.c.seq.desc()).limit(max(0, limit))
        else:
            query = query.order_by(t.c.seq)
        with self._read() as conn:
            rows = conn.execute(query).all()
        out = [self._from_row(r) for r in rows]
        return sorted(out, key=lambda r: r.seq)

    def rulings(self, determination_id: int) -> list[AuditRecord]:
        with self._read() as conn:
            rows = conn.execute(
                select(records_table)
                .where(records_table.c.refers_to == determination_id)
                .order_by(records_table.c.seq)
            ).all()
        return [self._from_row(r) for r in rows]

    def review_queue(self) -> list[AuditRecord]:
        """Determinations a person must look at (needs review, insufficient facts) and nobody
        has ruled on yet, oldest first."""
        t = records_table
        ruled = select(t.c.refers_to).where(t.c.kind == "ruling", t.c.refers_to.is_not(None))
        query = (
            select(t)
            .where(
                t.c.kind.in_(("determination", "batch")),
                t.c.status.in_(QUEUE_STATUSES),
                t.c.id.not_in(ruled),
            )
            .order_by(t.c.seq)
        )
        with self._read() as conn:
            return [self._from_row(r) for r in conn.execute(query).all()]

    # --- checking and exporting ----------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Walk the chain; name every record that was edited, inserted, deleted or moved."""
        with self._read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(records_table)).all()]
            head = conn.execute(select(head_table.c.seq, head_table.c.hash)).first()
        head_seq, head_hash = (int(head.seq), str(head.hash)) if head else (0, GENESIS)
        problems = verify_rows(rows, head_seq, head_hash)
        return VerifyReport(not problems, len(rows), problems, head_seq, head_hash)

    def export(self, fmt: Literal["csv", "json"], out: TextIO, **filters: Any) -> int:
        """Write the records that match ``filters`` (those of :meth:`records`); return the
        count.  JSON holds each record as :meth:`AuditRecord.to_json`; CSV has one column per
        field, the JSON fields as JSON text."""
        recs = self.records(**filters)
        if fmt == "json":
            json.dump(
                {
                    "format": "tpo-check audit/1",
                    "exported": datetime.now(UTC).isoformat(timespec="seconds"),
                    "filters": {k: str(v) for k, v in filters.items() if v is not None},
                    "records": [r.to_json() for r in recs],
                },
                out,
                ensure_ascii=False,
                indent=1,
            )
            out.write("\n")
        elif fmt == "csv":
            writer = csv.DictWriter(out, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
            writer.writeheader()
            for r in recs:
                row = r.to_json()
                for name in JSON_FIELDS:
                    row[name] = canonical(row[name])
                writer.writerow(row)
        else:
            raise AuditError(f"unknown export format {fmt!r}", "Use csv or json.")
        return len(recs)


def read_csv_export(text: str) -> list[AuditRecord]:
    """Records back from a CSV export (for checking an export, and for the tests)."""
    out: list[AuditRecord] = []
    for row in csv.DictReader(io.StringIO(text, newline="")):
        data: dict[str, Any] = dict(row)
        for name in ("id", "seq", "refers_to"):
            data[name] = int(data[name]) if data[name] else None
        auth = data["authorization_required"]
        data["authorization_required"] = None if auth == "" else auth == "True"
        for name in JSON_FIELDS:
            data[name] = json.loads(data[name])
        for name in ("category", "status", "corpus_version", "rules_version", "prompt_hash"):
            data[name] = data[name] or None
        out.append(AuditRecord.from_json(data))
    return out


def _fields(row: dict[str, Any]) -> dict[str, Any] | None:
    """A stored row's hashed fields as values (None when its JSON no longer parses)."""
    fields: dict[str, Any] = {name: row.get(name) for name in HASHED}
    for name in JSON_FIELDS:
        value = fields[name]
        if isinstance(value, str):
            try:
                fields[name] = json.loads(value)
            except ValueError:
                return None
    return fields


def _holds_at(row: dict[str, Any], pos: int) -> bool:
    """Whether the row's hash holds had it been written at position ``pos``."""
    fields = _fields(row)
    if fields is None:
        return False
    fields["id"] = fields["seq"] = pos
    return chain_hash(str(row["prev_hash"]), fields) == str(row["hash"])


def _chain_positions(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Each record's position as written, found by following the links from the start: the
    links and hashes are what someone moving records around leaves as they were.  Where two
    records link to the same one, the one whose hash holds at that position is the genuine."""
    children: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        children.setdefault(str(r["prev_hash"]), []).append(r)
    out: dict[str, int] = {}
    link, pos = GENESIS, 0
    while children.get(link):
        pos += 1
        candidates = children[link]
        genuine = [r for r in candidates if _holds_at(r, pos)] or candidates
        link = str(genuine[0]["hash"])
        if link in out:
            break
        out[link] = pos
    return out


def verify_rows(rows: Sequence[dict[str, Any]], head_seq: int, head_hash: str) -> list[Problem]:
    """Check stored rows (JSON fields as stored text or as values) against the chain and head.

    How each break is read: a record whose fields no longer give its hash was *edited*; one
    whose hash holds at another position than where it is stored was *reordered*; a gap in
    the sequence, or a head that counts more records than there are, means records were
    *deleted*; a record that is not on the chain of links from the start (or the next record
    links past it), or that lies beyond the head, was *inserted*.
    """
    ordered = sorted(rows, key=lambda r: (int(r["seq"]), int(r["id"])))
    positions = _chain_positions(ordered)
    siblings: dict[str, int] = {}
    for r in ordered:
        siblings[str(r["prev_hash"])] = siblings.get(str(r["prev_hash"]), 0) + 1
    problems: list[Problem] = []

    def add(row: dict[str, Any] | None, seq: int, kind: Any, detail: str) -> None:
        problems.append(Problem(seq, int(row["id"]) if row else None, kind, detail))

    def moved(row: dict[str, Any], seq: int) -> bool:
        written_at = positions.get(str(row["hash"]))
        if written_at is None or written_at == seq or not _holds_at(row, written_at):
            return False
        add(
            row,
            seq,
            "reordered",
            f"record seq {seq} (id {row['id']}) was written as seq {written_at} and moved",
        )
        return True

    prev: dict[str, Any] | None = None
    for i, row in enumerate(ordered):
        seq = int(row["seq"])
        prev_seq = int(prev["seq"]) if prev else 0
        expected_prev = str(prev["hash"]) if prev else GENESIS
        nxt = ordered[i + 1] if i + 1 < len(ordered) else None
        on_chain = str(row["hash"]) in positions
        if seq > head_seq:
            if not moved(row, seq):
                add(
                    row,
                    seq,
                    "inserted",
                    f"record seq {seq} lies beyond the trail's head "
                    f"(seq {head_seq}): it was not appended through the audit log",
                )
            prev = row
            continue
        if seq > prev_seq + 1:
            missing = f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1}–{seq - 1}"
            add(
                None,
                prev_seq + 1,
                "deleted",
                f"record(s) seq {missing} are missing "
                f"(between seq {prev_seq or 'start'} and seq {seq})",
            )
        if not _holds_at(row, seq) or row["id"] != row["seq"]:
            if moved(row, seq):
                pass
            elif not on_chain and siblings[str(row["prev_hash"])] > 1:
                add(
                    row,
                    seq,
                    "inserted",
                    f"record seq {seq} (id {row['id']}) was slipped in: "
                    "another record links to the same predecessor, and its hash holds",
                )
            else:
                add(
                    row,
                    seq,
                    "edited",
                    f"record seq {seq} (id {row['id']}) no longer matches "
                    "its hash: its contents were changed after it was written",
                )
        elif str(row["prev_hash"]) != expected_prev and seq == prev_seq + 1:
            if nxt is not None and str(nxt["prev_hash"]) == expected_prev:
                add(
                    row,
                    seq,
                    "inserted",
                    f"record seq {seq} was slipped into the chain: the "
                    f"record after it links to seq {prev_seq or 'start'}",
                )
            elif prev is not None and not problems_at(problems, prev_seq):
                add(
                    prev,
                    prev_seq,
                    "edited",
                    f"record seq {prev_seq} (id {prev['id']}) was "
                    f"changed and re-hashed: record seq {seq} still links to its old hash",
                )
            elif prev is None:
                add(row, seq, "inserted", f"record seq {seq} does not start the chain")
        prev = row
    last_seq = int(prev["seq"]) if prev else 0
    if last_seq < head_seq:
        missing = f"{last_seq + 1}" if head_seq == last_seq + 1 else f"{last_seq + 1}–{head_seq}"
        add(
            None,
            last_seq + 1,
            "deleted",
            f"record(s) seq {missing} at the end of the trail "
            f"are missing (the head counts {head_seq})",
        )
    elif (
        prev is not None
        and last_seq == head_seq
        and str(prev["hash"]) != head_hash
        and not problems_at(problems, last_seq)
    ):
        add(
            prev,
            last_seq,
            "edited",
            f"the last record, seq {last_seq}, does not carry "
            "the hash the trail's head recorded: it was replaced or re-hashed",
        )
    return problems


def problems_at(problems: Sequence[Problem], seq: int) -> bool:
    return any(p.seq == seq for p in problems)
