"""`tpo classify --file PATH` and `tpo classify --dir DIR`: documents, one or a folder.

The lead's ``classify`` command calls these inside ``user_errors()``; they raise
:class:`~indexer.errors.TpoError` for anything the user can fix.
"""

from __future__ import annotations

import re
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from app.batch import BatchResult, Record, classify_dir, write_output
from app.cli_common import emit, err, out, progress_bars
from app.doc_classify import DocumentResult, Evidence, classify_document
from app.documents import read_path
from app.services import Services
from indexer.errors import UserInputError

_AROUND = 50  # characters of the document shown on each side of an evidence span


def classify_file_command(
    svc: Services, path: Path, context: str | None, llm: str | None, as_json: bool
) -> DocumentResult:
    if not path.is_file():
        raise UserInputError(f"{path}: no such file", "Give the path of one document.")
    doc = read_path(path)
    result = classify_document(svc.pipeline(llm), doc, context)
    emit(result.to_json(), as_json, lambda: render_document(result))
    return result


def classify_dir_command(
    svc: Services,
    folder: Path,
    context: str | None,
    llm: str | None,
    out_file: Path | None,
    as_json: bool,
    record: Record | None = None,
) -> BatchResult:
    if out_file is not None and out_file.suffix.lower() not in (".csv", ".jsonl", ".json"):
        raise UserInputError(f"{out_file.name}: unknown output type", "Name it .csv or .jsonl.")
    pipeline = svc.pipeline(llm)
    with progress_bars() as bar:
        result = classify_dir(pipeline, folder, context, progress=bar, record=record)
    if out_file is not None:
        write_output(result, out_file)
        err.print(f"results written to {out_file}", highlight=False)
    emit(result.to_json(), as_json, lambda: render_batch(result))
    return result


# -- rendering ---------------------------------------------------------------------------------
def _auth(required: bool) -> str:
    return "[bold red]authorization required[/]" if required else "no authorization required"


def render_document(result: DocumentResult) -> None:
    det, doc = result.determination, result.document
    out.print(
        f"[bold]{escape(doc.name)}[/] ({doc.kind}"
        + "".join(f", {k}: {escape(v)}" for k, v in doc.meta.items() if k in ("subject", "pages"))
        + ")",
        highlight=False,
    )
    if doc.meta.get("notice"):
        out.print(f"[yellow]notice:[/] {escape(doc.meta['notice'])}", highlight=False)
    out.print(
        f"[bold]{det.category.value}[/] — {_auth(det.authorization_required)} — "
        f"{det.status.replace('_', ' ')}",
        highlight=False,
    )
    if det.operations_paragraph:
        out.print(f"health care operations, paragraph {det.operations_paragraph}")
    out.print(escape(det.rationale), highlight=False)
    for c in det.citations:
        out.print(f"  [{c.passage_id}] {escape(c.citation)} (as of {c.as_of})", highlight=False)
    if result.evidence:
        out.print("\n[bold]What in the document set the facts[/] (character offsets):")
        spans: dict[tuple[bool, int, int], list[Evidence]] = {}
        for e in result.evidence:
            spans.setdefault((e.in_context, e.start, e.end), []).append(e)
        for (in_context, start, end), group in spans.items():
            source = (result.context or "") if in_context else doc.text
            where = f"context {start}–{end}" if in_context else f"{start}–{end}"
            facts = ", ".join(f"{e.fact} = {e.state}" for e in group)
            out.print(f"  [bold]{facts}[/]  [dim]{where}[/]", highlight=False)
            out.print(f"    {_excerpt(source, group[0])}", highlight=False)
    for o in det.obligations:
        out.print(f"[bold]obligation:[/] {escape(o.text)} ({escape(o.citation)})", highlight=False)
    for q in det.clarifying_questions:
        out.print(f"[bold]question:[/] {escape(q)}", highlight=False)
    if result.authorization_contents:
        out.print("\n[bold]The authorization must contain[/]:")
        for r in result.authorization_contents:
            out.print(f"  • {escape(r.text)} [dim]({escape(r.citation)})[/]", highlight=False)
    for flag in det.flags:
        out.print(f"[red]flag:[/] {escape(flag)}", highlight=False)


def _excerpt(source: str, e: Evidence) -> str:
    """The evidence highlighted in its surroundings, on one line."""

    def flat(text: str) -> str:
        return re.sub(r"\s+", " ", text)

    before = flat(source[max(0, e.start - _AROUND) : e.start]).lstrip()
    after = flat(source[e.end : e.end + _AROUND]).rstrip()
    lead = "…" if e.start > _AROUND else ""
    tail = "…" if e.end + _AROUND < len(source) else ""
    words = escape(flat(source[e.start : e.end]))
    return f"[dim]{lead}{escape(before)}[/][reverse]{words}[/][dim]{escape(after)}{tail}[/]"


def render_batch(result: BatchResult) -> None:
    table = Table(title=f"{len(result.rows)} documents in {result.folder}")
    for col in ("file", "category", "authorization", "status", "main citation"):
        table.add_column(col, overflow="fold")
    for row in result.rows:
        if row.error:
            table.add_row(escape(row.file), "[red]failed[/]", "", "", "")
            continue
        auth = "[red]required[/]" if row.authorization == "required" else row.authorization
        table.add_row(
            escape(row.file),
            row.category,
            auth,
            row.status.replace("_", " "),
            escape(row.citation),
        )
    out.print(table)
    if result.failures:
        out.print(f"[bold red]{len(result.failures)} could not be classified:[/]")
        for row in result.failures:
            out.print(f"  {escape(row.file)}: {escape(row.error)}", highlight=False)
    if result.skipped:
        out.print(
            f"[dim]{len(result.skipped)} file(s) of other types skipped: "
            f"{escape(', '.join(result.skipped[:8]))}{' …' if len(result.skipped) > 8 else ''}[/]",
            highlight=False,
        )
    out.print(
        f"{len(result.rows)} documents in {result.seconds:.1f} s "
        f"({result.docs_per_minute} per minute)",
        highlight=False,
    )
