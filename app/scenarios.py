"""Labeled scenarios in the format of LABELS.md: JSON Lines or CSV, validated line by line.

Nothing runs on a file that does not validate: every problem is reported with its
line number, all at once, so a user can fix the file in one pass.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.models import Category
from indexer.errors import CitationError, TpoError
from indexer.models import Citation

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "evaluation" / "scenarios"


class ScenarioFileError(TpoError):
    """A scenario file that does not follow the format of LABELS.md."""


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Category
    authorization_required: bool | None = None
    citations: tuple[str, ...] = ()

    @field_validator("citations")
    @classmethod
    def _citations_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            try:
                Citation.parse(text)
            except CitationError as exc:
                raise ValueError(str(exc)) from exc
        return value


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    description: str = Field(min_length=1)
    expected: Expected
    source: str | None = None
    difficulty: str | None = None
    notes: str | None = None


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(x) for x in e['loc']) or 'line'}: {e['msg']}" for e in exc.errors()
    )


def _from_csv_row(row: dict[str, str]) -> dict[str, Any]:
    auth = (row.get("authorization_required") or "").strip().lower()
    expected: dict[str, Any] = {"category": (row.get("category") or "").strip()}
    if auth:
        if auth not in ("true", "false", "yes", "no", "1", "0"):
            expected["authorization_required"] = auth  # let validation name it
        else:
            expected["authorization_required"] = auth in ("true", "yes", "1")
    cites = [c.strip() for c in (row.get("citations") or "").split(";") if c.strip()]
    if cites:
        expected["citations"] = cites
    return {
        "id": (row.get("id") or "").strip(),
        "description": row.get("description") or "",
        "expected": expected,
    }


def parse_scenarios(text: str, name: str) -> list[Scenario]:
    """Parse JSON Lines or CSV (chosen by ``name``'s suffix); raise with every bad line."""
    rows: list[tuple[int, Any]] = []
    errors: list[str] = []
    if name.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        missing = {"id", "description", "category"} - set(reader.fieldnames or [])
        if missing:
            raise ScenarioFileError(
                f"{name}: CSV lacks the columns {sorted(missing)}",
                "Columns: id,description,category,authorization_required,"
                "citations (citations separated by ;).",
            )
        rows = [(i, _from_csv_row(r)) for i, r in enumerate(reader, start=2)]
    else:
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append((i, json.loads(line)))
            except json.JSONDecodeError as exc:
                errors.append(f"line {i}: not JSON ({exc.msg})")
    scenarios: list[Scenario] = []
    seen: dict[str, int] = {}
    for i, data in rows:
        try:
            s = Scenario.model_validate(data)
        except ValidationError as exc:
            errors.append(f"line {i}: {_problems(exc)}")
            continue
        if s.id in seen:
            errors.append(f"line {i}: id {s.id!r} already used on line {seen[s.id]}")
        seen[s.id] = i
        scenarios.append(s)
    if errors:
        shown = errors[:50] + ([f"… and {len(errors) - 50} more"] if len(errors) > 50 else [])
        raise ScenarioFileError(
            f"{name}: {len(errors)} invalid line(s):\n  " + "\n  ".join(shown),
            "Fix the lines listed; the format is in LABELS.md.",
        )
    if not scenarios:
        raise ScenarioFileError(f"{name}: no scenarios", "Add one scenario per line.")
    return scenarios


def load_scenarios(path: Path) -> list[Scenario]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(f"{path}: cannot read ({exc})", "Check the path.") from exc
    return parse_scenarios(text, str(path))
