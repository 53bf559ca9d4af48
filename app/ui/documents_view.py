"""Ask about a document: one file with its evidence highlighted, or several in a table.

The document's text is held in this browser session only while it is being worked on
(the edit box needs it); the audit trail receives the scrubbed determination only.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.doc_classify import DocumentResult, classify_document
from app.documents import EXTENSIONS, Document, read_document
from app.ui.answer import show, storable
from app.ui.common import audit, require, services, shown_errors
from app.ui.doc_flow import classify_uploads, highlighted

TYPES = sorted(ext.lstrip(".") for ext in EXTENSIONS)
DOC = "_doc"  # {"name", "kind", "text", "context", "answer", "evidence"} of the open document


def _record(det: dict[str, Any], kind: str = "determination") -> None:
    user = require("ask")
    with shown_errors() as outcome:
        audit().record(det, user=user.name, source="web", kind=kind)
    if outcome.failed:
        st.warning("This answer could not be recorded in the audit trail.")


def _check(doc: Document, context: str, backend: str) -> None:
    require("ask")  # again, right before the action
    result: DocumentResult | None = None
    with shown_errors(), st.spinner("Reading the document and checking it …"):
        result = classify_document(services().pipeline(backend), doc, context)
    if result is None:
        return
    det = result.determination.to_json()
    _record({**det, "file": doc.name, "context": context or None})
    st.session_state[DOC] = {
        "name": doc.name,
        "kind": doc.kind,
        "text": doc.text,
        "context": context,
        "answer": {
            **storable(det),
            "authorization_contents": [r.to_json() for r in result.authorization_contents],
        },
        "evidence": result.evidence,
    }
    st.session_state.pop("doc-edit", None)  # the edit box shows the new text


def single_document(backend: str) -> None:
    up = st.file_uploader("A letter, e-mail, agreement or form", type=TYPES, key="doc-file")
    context = st.text_input(
        "Anything the document does not say (optional)",
        placeholder="e.g. the manufacturer pays for the printing",
        key="doc-context",
    )
    if up is not None and st.button("Check the document", type="primary", key="doc-check"):
        with shown_errors():
            doc = read_document(up.name, up.getvalue())
            _check(doc, context, backend)
    opened = st.session_state.get(DOC)
    if not opened:
        return
    st.markdown(f"**{opened['name']}**")
    show(opened["answer"], "doc")
    evidence = opened["evidence"]
    st.markdown("**The words that decided it**, each followed by the fact it set")
    with st.container(height=360):
        st.markdown(highlighted(opened["text"], evidence), unsafe_allow_html=True)
    from_context = [e for e in evidence if e.in_context]
    if from_context:
        st.caption(
            "From your note: "
            + "; ".join(f"{e.fact.replace('_', ' ')} ← “{e.text}”" for e in from_context)
        )
    edited = st.text_area(
        "Edit the text and check again", opened["text"], height=200, key="doc-edit"
    )
    left, right = st.columns(2)
    if left.button("Re-check", key="doc-recheck"):
        doc = Document(name=opened["name"], kind="text", text=edited)
        _check(doc, opened["context"], backend)
        st.rerun()
    if right.button("Close the document", key="doc-close"):
        st.session_state.pop(DOC, None)
        st.session_state.pop("doc-edit", None)
        st.rerun()


def several_documents(backend: str) -> None:
    ups = st.file_uploader(
        "Several documents", type=TYPES, accept_multiple_files=True, key="batch-files"
    )
    context = st.text_input("Applies to all of them (optional)", key="batch-context")
    if not ups or not st.button("Check them all", type="primary", key="batch-check"):
        return
    require("ask")
    bar = st.progress(0.0, text="Checking …")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Checked {done} of {total}")

    rows = []
    with shown_errors():
        rows = classify_uploads(
            services().pipeline(backend),
            [(u.name, u.getvalue()) for u in ups],
            context or None,
            progress,
            lambda det: _record(det, kind="batch"),
        )
    bar.empty()
    if not rows:
        return
    failed = [r for r in rows if r.error]
    st.caption(f"{len(rows) - len(failed)} checked, {len(failed)} could not be read.")
    st.dataframe(
        [
            {
                "file": r.file,
                "category": r.category.replace("_", " "),
                "authorization": r.authorization,
                "status": r.status.replace("_", " "),
                "citation": r.citation,
            }
            for r in rows
        ],
        hide_index=True,
        use_container_width=True,
    )
    for r in failed:
        st.error(f"{r.file}: {r.error}")
