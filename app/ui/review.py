"""Review: the determinations a privacy officer must look at, and their rulings.

The queue is the audit trail's needs-review and insufficient-facts determinations that
nobody has ruled on.  A ruling goes into the trail (chained like every record) and into
the reviews file as a labeled scenario, so the next evaluation and the next similar
question both learn from it.
"""

from __future__ import annotations

import streamlit as st

from app.audit import AuditRecord
from app.models import Category
from app.reviews import record_ruling
from app.ui.answer import show
from app.ui.common import audit, require, settings, shown_errors

FLASH = "_review_flash"
CATEGORIES = [c.value for c in Category]


def label(rec: AuditRecord) -> str:
    status = (rec.status or "").replace("_", " ")
    return f"#{rec.id} · {rec.time[:16].replace('T', ' ')} · {rec.category} · {status}"


def ruling_form(rec: AuditRecord) -> None:
    with st.form(f"rule-{rec.id}"):
        st.markdown("**Your ruling**")
        category = st.selectbox(
            "Correct category",
            CATEGORIES,
            index=CATEGORIES.index(rec.category) if rec.category in CATEGORIES else 0,
            format_func=lambda c: c.replace("_", " "),
        )
        required = st.radio(
            "Authorization",
            ["required", "not required"],
            index=0 if rec.authorization_required else 1,
            horizontal=True,
        )
        note = st.text_area(
            "Note", placeholder="Why: the facts and the provision that decide it", max_chars=4000
        )
        submitted = st.form_submit_button("Record ruling", type="primary")
    if not submitted:
        return
    reviewer = require("rule")  # again, right before the action
    if not note.strip():
        st.error("A ruling needs a note saying why: the next reviewer reads it.")
        return
    with shown_errors() as outcome:
        ruling = record_ruling(
            audit(),
            settings().reviews_file,
            rec.id,
            reviewer=reviewer.name,
            category=category,
            authorization_required=required == "required",
            note=note.strip(),
        )
    if not outcome.failed:
        st.session_state[FLASH] = (
            f"Ruling #{ruling.id} on #{rec.id} recorded: {category.replace('_', ' ')}, "
            f"authorization {required}. It is now a labeled scenario in the reviews file."
        )
        st.rerun()


def main() -> None:
    require("rule")
    st.title("Review")
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH))
    with shown_errors() as outcome:
        queue = audit().review_queue()
    if outcome.failed:
        return
    if not queue:
        st.info("Nothing waits for review: every answer that needed a person has a ruling.")
        return
    st.caption(
        f"{len(queue)} answer(s) wait, oldest first: the opinions disagreed, or a deciding "
        "fact was missing."
    )
    rec = st.selectbox("Answer to review", queue, format_func=label)
    if rec is None:
        return
    st.markdown(f"**Asked by {rec.user}** on {rec.time[:10]} (corpus {rec.corpus_version}):")
    st.markdown(f"> {rec.description}")
    show(rec.payload, f"review-{rec.id}")
    ruling_form(rec)


main()
