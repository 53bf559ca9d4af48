"""Audit: the record of every answer given and every ruling made, filtered, exported and
checked.

Reviewers may read it (the person who checks answers must see the record of them);
exporting, which takes the whole record out of the system, is an admin's action.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import streamlit as st

from app.audit import AuditRecord
from app.models import Category
from app.ui.common import audit, can, require, shown_errors

KINDS = ["determination", "batch", "ruling"]
STATUSES = ["confirmed", "needs_review", "insufficient_facts"]
SHOWN = 500


def filters() -> dict[str, Any]:
    """The filter widgets, as keyword arguments of ``AuditLog.records``."""
    today = date.today()
    period = st.date_input(
        "Between", (today - timedelta(days=30), today), max_value=today, key="audit-dates"
    )
    left, right = st.columns(2)
    kind = left.selectbox("Kind", ["any", *KINDS], key="audit-kind")
    status = right.selectbox("Status", ["any", *STATUSES], key="audit-status")
    category = left.selectbox("Category", ["any", *(c.value for c in Category)], key="audit-cat")
    user = right.text_input("User", key="audit-user").strip()
    text = st.text_input("Description contains", key="audit-text").strip()
    since = until = None
    if isinstance(period, tuple) and len(period) == 2:
        since, until = period
    elif isinstance(period, tuple) and len(period) == 1:
        since = period[0]
    return {
        "kind": None if kind == "any" else kind,
        "status": None if status == "any" else status,
        "category": None if category == "any" else category,
        "user": user or None,
        "text": text or None,
        "since": since,
        "until": until,
    }


def row(r: AuditRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "time": r.time[:19].replace("T", " "),
        "user": r.user,
        "kind": r.kind,
        "category": r.category,
        "authorization": None
        if r.authorization_required is None
        else ("required" if r.authorization_required else "not required"),
        "status": r.status,
        "about": r.refers_to,
        "description": r.description,
    }


def export_buttons(chosen: dict[str, Any]) -> None:
    if not can("export_audit"):
        st.caption("Exporting the trail is an admin's action.")
        return
    left, right = st.columns(2)
    for col, fmt, mime in ((left, "csv", "text/csv"), (right, "json", "application/json")):
        if col.button(f"Prepare {fmt.upper()} export", key=f"prep-{fmt}"):
            require("export_audit")  # again, right before the action
            buf = io.StringIO()
            with shown_errors() as outcome:
                n = audit().export(fmt, buf, **chosen)  # type: ignore[arg-type]
            if not outcome.failed:
                col.download_button(
                    f"Download {n} records ({fmt.upper()})",
                    buf.getvalue().encode("utf-8"),
                    file_name=f"tpo-audit.{fmt}",
                    mime=mime,
                    key=f"dl-{fmt}",
                    on_click="ignore",
                )


def verify_section() -> None:
    if not st.button("Verify the chain", key="verify"):
        return
    require("verify_audit")
    with shown_errors() as outcome:
        report = audit().verify()
    if outcome.failed:
        return
    if report.ok:
        st.success(f"The chain holds: {report.checked} records, none edited, inserted or deleted.")
        return
    st.error(f"The chain is broken: {len(report.problems)} problem(s) in {report.checked} records.")
    for p in report.problems:
        ident = f"record #{p.record_id}" if p.record_id is not None else "a missing record"
        st.markdown(f"- **{p.kind}** at position {p.seq} ({ident}): {p.detail}")


def main() -> None:
    require("read_audit")
    st.title("Audit")
    st.caption(
        "Every answer and ruling, hash-chained: an edited, inserted or deleted record is found "
        "by the check below. Descriptions are stored scrubbed of identifiers."
    )
    chosen = filters()
    with shown_errors() as outcome:
        records = audit().records(**chosen)
    if outcome.failed:
        return
    st.caption(
        f"{len(records)} record(s) match"
        + (f"; the newest {SHOWN} shown" if len(records) > SHOWN else "")
    )
    if records:
        st.dataframe(
            [row(r) for r in reversed(records[-SHOWN:])],
            hide_index=True,
            use_container_width=True,
        )
    export_buttons(chosen)
    verify_section()


main()
