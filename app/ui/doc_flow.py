"""Documents uploaded in the browser: classified in memory, never written to disk (no
Streamlit here).  Uploaded files may be full of patient details; ``app.batch`` works on a
folder, so the same rows are built here from the bytes the browser sent."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from app.batch import BatchRow, row_for
from app.doc_classify import Evidence, classify_document
from app.documents import read_document
from app.pipeline import Pipeline
from indexer.errors import TpoError

Record = Callable[[dict[str, Any]], None]


def classify_uploads(
    pipeline: Pipeline,
    files: Sequence[tuple[str, bytes]],
    context: str | None,
    progress: Callable[[int, int], None] | None = None,
    record: Record | None = None,
) -> list[BatchRow]:
    """One row per file; a file that cannot be read is a row with its error, not a stop."""
    rows: list[BatchRow] = []
    for i, (name, data) in enumerate(files, 1):
        try:
            result = classify_document(pipeline, read_document(name, data), context)
        except TpoError as exc:
            rows.append(BatchRow(name, status="failed", error=exc.user_message()))
        else:
            rows.append(row_for(name, result))
            if record is not None:
                record({**result.determination.to_json(), "file": name, "context": context})
        if progress is not None:
            progress(i, len(files))
    return rows


def highlighted(text: str, evidence: Sequence[Evidence]) -> str:
    """``text`` escaped, with each evidence span in ``<mark>`` titled by its fact.

    Spans are in document offsets; overlapping spans are merged into one mark whose title
    names every fact, so no tag is ever left open.
    """
    spans: list[tuple[int, int, list[str]]] = []
    for e in sorted((e for e in evidence if not e.in_context), key=lambda e: (e.start, e.end)):
        label = f"{e.fact.replace('_', ' ')}: {e.state}"
        if spans and e.start < spans[-1][1]:
            start, end, labels = spans[-1]
            spans[-1] = (start, max(end, e.end), [*labels, label])
        else:
            spans.append((e.start, e.end, [label]))
    out: list[str] = []
    pos = 0
    for start, end, labels in spans:
        out.append(html.escape(text[pos:start]))
        names = "; ".join(dict.fromkeys(labels))
        title = html.escape(names, quote=True)
        out.append(f'<mark title="{title}">{html.escape(text[start:end])}</mark>')
        # Said in the text too: a phone has no hover to show the title.
        out.append(f' <small style="color:#7a5c00">[{html.escape(names)}]</small>')
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out).replace("\n", "<br>")
