"""Reviewer rulings: recorded in the audit trail and learned from at once.

A ruling is appended to the audit trail (the earlier determination stays, so the trail shows
both what the tool said and what a person decided), and written as a labeled scenario in the
LABELS.md format to the reviews file, which the precedent store and the next evaluation read.
That is how a privacy officer's decision on one case informs the next similar one.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

from app.audit import AuditError, AuditLog, AuditRecord
from app.models import Category
from app.scenarios import Scenario, ScenarioFileError, parse_scenarios
from indexer.errors import CitationError
from indexer.models import Citation


def _citations(determination: AuditRecord, category: str) -> list[str]:
    """The provisions the determination cited, when the reviewer kept its category.

    When the reviewer changed the category those provisions decided the wrong question, so
    the scenario names none rather than teach the evaluation a wrong citation.
    """
    if determination.category != category:
        return []
    out: list[str] = []
    for c in determination.payload.get("citations") or []:
        text = c.get("citation") if isinstance(c, dict) else None
        if not text or text in out:
            continue
        try:
            Citation.parse(text)
        except CitationError:
            continue  # guidance passages are never cited as law
        out.append(text)
    return out


def ruling_scenario(determination: AuditRecord, ruling: AuditRecord) -> Scenario:
    payload = ruling.payload
    data: dict[str, Any] = {
        "id": f"R{determination.id}",
        "description": determination.description,
        "expected": {
            "category": payload["category"],
            "authorization_required": payload["authorization_required"],
            "citations": _citations(determination, payload["category"]),
        },
        "source": f"reviewer ruling by {payload['reviewer']}",
        "notes": payload.get("note") or None,
    }
    return Scenario.model_validate(data)


def _write_scenario(reviews_file: Path, scenario: Scenario) -> None:
    """Add the scenario, replacing an earlier ruling on the same determination (ids must stay
    unique for the file to load), atomically and under a lock."""
    reviews_file.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(scenario.model_dump(exclude_none=True), ensure_ascii=False)
    lock = reviews_file.with_name(reviews_file.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        old = reviews_file.read_text(encoding="utf-8") if reviews_file.exists() else ""
        kept = [raw for raw in old.splitlines() if raw.strip() and _line_id(raw) != scenario.id]
        text = "\n".join([*kept, line]) + "\n"
        parse_scenarios(text, str(reviews_file))  # never leave a file the loaders refuse
        tmp = reviews_file.with_name(reviews_file.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, reviews_file)
    finally:
        os.close(fd)


def _line_id(raw: str) -> str | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def record_ruling(
    audit: AuditLog,
    reviews_file: Path,
    determination_id: int,
    *,
    reviewer: str,
    category: str,
    authorization_required: bool,
    note: str,
) -> AuditRecord:
    """Record a reviewer's ruling in the trail and as a labeled scenario (id ``R<id>``)."""
    if category not in {c.value for c in Category}:
        raise AuditError(
            f"unknown category {category!r}",
            "Use one of: " + ", ".join(c.value for c in Category) + ".",
        )
    if not reviewer.strip():
        raise AuditError("a ruling needs the reviewer's name", "Set TPO_USER or log in.")
    determination = audit.get(determination_id)
    if determination is None or determination.kind == "ruling":
        raise AuditError(
            f"no recorded determination with id {determination_id}",
            "`tpo audit list` shows the ids; rulings are made on determinations.",
        )
    ruling = audit.rule(
        determination_id,
        reviewer=reviewer,
        category=category,
        authorization_required=authorization_required,
        note=note,
    )
    try:
        _write_scenario(reviews_file, ruling_scenario(determination, ruling))
    except (OSError, ScenarioFileError) as exc:
        detail = exc.user_message() if isinstance(exc, ScenarioFileError) else str(exc)
        raise AuditError(
            f"the ruling is recorded in the audit trail (id {ruling.id}) but could not be "
            f"added to {reviews_file}: {detail}",
            "Fix the reviews file (or free disk space) and rule again; the trail keeps both.",
        ) from None
    return ruling
