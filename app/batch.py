"""A folder of documents, each classified; a broken file is listed, never stops the run.

This is how a compliance office re-checks every outgoing template after guidance changes:
one row per file (file, category, authorization, status, main citation, error), written as
CSV or JSON Lines, and each determination handed to the audit trail through ``record``.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.doc_classify import DocumentResult, classify_document
from app.documents import EXTENSIONS, read_path
from app.pipeline import Pipeline
from indexer.errors import TpoError, UserInputError

Progress = Callable[[str, int, int], None]  # (stage, done, total), as app.cli_common's bars
Record = Callable[[dict[str, Any]], None]
COLUMNS = ("file", "kind", "category", "authorization", "status", "citation", "error")


@dataclass(frozen=True)
class BatchRow:
    file: str  # relative to the folder, with forward slashes
    kind: str = ""
    category: str = ""
    authorization: str = ""  # "required" | "not required" | "" for a failure
    status: str = ""  # the determination's status, or "failed"
    citation: str = ""  # the main citation
    error: str = ""

    def to_json(self) -> dict[str, str]:
        return {c: getattr(self, c) for c in COLUMNS}


@dataclass(frozen=True)
class BatchResult:
    folder: str
    context: str | None
    rows: tuple[BatchRow, ...]
    results: tuple[DocumentResult | None, ...]  # aligned with rows; None for a failure
    skipped: tuple[str, ...]  # files of a type tpo-check does not read
    seconds: float

    @property
    def failures(self) -> tuple[BatchRow, ...]:
        return tuple(r for r in self.rows if r.error)

    @property
    def docs_per_minute(self) -> float:
        return round(len(self.rows) / self.seconds * 60, 1) if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "context": self.context,
            "documents": len(self.rows),
            "classified": sum(r is not None for r in self.results),
            "failed": len(self.failures),
            "skipped": list(self.skipped),
            "seconds": round(self.seconds, 2),
            "docs_per_minute": self.docs_per_minute,
            "rows": [r.to_json() for r in self.rows],
            "failures": [{"file": r.file, "error": r.error} for r in self.failures],
        }


def supported_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """Every file under ``folder`` that tpo-check reads, and those it does not, both sorted.
    Hidden files and folders (".git", ".DS_Store") are not documents and are left out."""
    ok: list[Path] = []
    other: list[Path] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        (ok if path.suffix.lower() in EXTENSIONS else other).append(path)
    return ok, other


def row_for(name: str, result: DocumentResult) -> BatchRow:
    """The results-table row of one classified document."""
    det = result.determination
    return BatchRow(
        name,
        kind=result.document.kind,
        category=det.category.value,
        authorization="required" if det.authorization_required else "not required",
        status=det.status,
        citation=main_citation(result),
    )


def main_citation(result: DocumentResult) -> str:
    det = result.determination
    if det.citations:
        return det.citations[0].citation
    if det.rules.citations and det.category == det.rules.category:
        return det.rules.citations[0]
    return ""


def classify_dir(
    pipeline: Pipeline,
    folder: Path,
    context: str | None = None,
    progress: Progress | None = None,
    record: Record | None = None,
) -> BatchResult:
    """Classify every supported file under ``folder``, recursively, in sorted order.

    ``record`` receives each classified document's determination JSON with ``file`` (the
    relative name) and ``context`` added — the audit trail's entry, which the caller scrubs
    and stores.
    """
    if not folder.is_dir():
        raise UserInputError(f"{folder}: not a folder", "Give the folder holding the documents.")
    files, other = supported_files(folder)
    if not files:
        raise UserInputError(
            f"{folder}: no documents to classify",
            "Put .txt, .md, .html, .eml, .pdf or .docx files in it (subfolders are read too).",
        )
    start = time.perf_counter()
    rows: list[BatchRow] = []
    results: list[DocumentResult | None] = []
    for i, (rel, result, error) in enumerate(_each(pipeline, folder, files, context), 1):
        if result is None:
            rows.append(BatchRow(rel, status="failed", error=error))
            results.append(None)
        else:
            rows.append(row_for(rel, result))
            results.append(result)
            if record is not None:
                record({**result.determination.to_json(), "file": rel, "context": context})
        if progress is not None:
            progress("documents", i, len(files))
    return BatchResult(
        folder=str(folder),
        context=context,
        rows=tuple(rows),
        results=tuple(results),
        skipped=tuple(p.relative_to(folder).as_posix() for p in other),
        seconds=time.perf_counter() - start,
    )


def _each(
    pipeline: Pipeline, folder: Path, files: list[Path], context: str | None
) -> Iterator[tuple[str, DocumentResult | None, str]]:
    for path in files:
        rel = path.relative_to(folder).as_posix()
        try:
            yield rel, classify_document(pipeline, read_path(path), context), ""
        except TpoError as exc:
            yield rel, None, exc.user_message()
        except Exception as exc:  # one bad file must not lose the others' answers
            yield rel, None, f"internal error: {type(exc).__name__}: {exc}"


# -- writers ---------------------------------------------------------------------------------------
def write_csv(result: BatchResult, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for row in result.rows:
            writer.writerow(row.to_json())


def write_jsonl(result: BatchResult, path: Path) -> None:
    """One line per file: the row, and for a classified document the evidence (fact, state,
    offsets, words) and what the authorization must contain — enough to review the answer
    without re-running it, without copying whole documents into the output."""
    with path.open("w", encoding="utf-8") as fh:
        for row, doc in zip(result.rows, result.results, strict=True):
            line: dict[str, Any] = row.to_json()
            if doc is not None:
                det = doc.determination
                line["evidence"] = [e.to_json() for e in doc.evidence]
                line["authorization_contents"] = [r.to_json() for r in doc.authorization_contents]
                line["clarifying_questions"] = list(det.clarifying_questions)
                line["citations"] = [c.citation for c in det.citations]
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def write_output(result: BatchResult, path: Path) -> None:
    """By the extension: .csv or .jsonl (also .json lines under .json)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        write_csv(result, path)
    elif suffix in (".jsonl", ".json", ".ndjson"):
        write_jsonl(result, path)
    else:
        raise UserInputError(
            f"{path.name}: unknown output type {suffix or '(none)'}", "Name it .csv or .jsonl."
        )
