"""Corpus: which text of the law the answers rest on, how it changed, and the update.

Everyone may read the versions and their differences: an answer cites a version, and
the person relying on it must be able to see that version's text.  Updating is an
admin's action, because it changes what every later answer rests on.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.ui.common import can, require, services, shown_errors
from app.update_flow import update_with_impact
from indexer.changes import Change
from indexer.update import diff_versions
from indexer.versions import VersionInfo

STAGES = {
    "before": "Re-checking affected answers on the old version",
    "embed": "Embedding passages",
    "write": "Writing vectors",
    "after": "Re-checking affected answers on the new version",
}
RESULT = "_corpus_update"


def show_changes(changes: list[Change], old: str, new: str, limit: int = 30) -> None:
    """Old and new text side by side (columns stack on a phone)."""
    if not changes:
        st.info(f"No citation changed between {old} and {new}.")
        return
    counts = {k: sum(c.change == k for c in changes) for k in ("added", "changed", "removed")}
    st.caption(
        f"{old} → {new}: {counts['added']} added, {counts['changed']} changed, "
        f"{counts['removed']} removed"
    )
    for c in changes[:limit]:
        st.markdown(f"**{c.change}: {c.citation}**")
        left, right = st.columns(2)
        left.caption(old)
        left.write(c.old_text or "—")
        right.caption(new)
        right.write(c.new_text or "—")
    if len(changes) > limit:
        st.caption(f"… and {len(changes) - limit} more (`tpo index diff {old} {new} --json`).")


def versions_section(versions: list[VersionInfo], current: VersionInfo | None) -> None:
    st.subheader("Versions")
    for v in reversed(versions):
        mark = " · current" if current and v.id == current.id else ""
        with st.expander(f"{v.id}{mark} — {v.created[:10]}, {v.passages} passages"):
            r = v.report
            st.caption(
                f"Created {v.created} with {v.embedder}; this update added "
                f"{r.get('added', 0)}, changed {r.get('changed', 0)}, removed "
                f"{r.get('removed', 0)} passages."
            )
            for s in v.sources:
                st.markdown(f"- `{s['id']}` — text as of {s['as_of']}, {s['passages']} passages")


def report_section(versions: list[VersionInfo]) -> None:
    st.subheader("What each update changed")
    later = versions[1:]
    if not later:
        st.caption("One version so far: nothing to compare.")
        return
    ids = [v.id for v in versions]
    chosen = st.selectbox("Update", [v.id for v in reversed(later)], key="report-version")
    new = ids.index(chosen)
    with shown_errors():
        show_changes(diff_versions(services().db, ids[new - 1], chosen), ids[new - 1], chosen)


def diff_section(versions: list[VersionInfo]) -> None:
    st.subheader("Compare two versions")
    ids = [v.id for v in versions]
    if len(ids) < 2:
        st.caption("One version so far: nothing to compare.")
        return
    left, right = st.columns(2)
    old = left.selectbox("From", ids, index=len(ids) - 2, key="diff-from")
    new = right.selectbox("To", ids, index=len(ids) - 1, key="diff-to")
    if old == new:
        st.caption("Choose two different versions.")
        return
    with shown_errors():
        show_changes(diff_versions(services().db, old, new), old, new)


def run_update() -> dict[str, Any] | None:
    """Read the mirror and update the index, with a progress bar per long step."""
    require("update_corpus")  # again, right before the action
    svc = services()
    bar = st.progress(0.0, text="Reading the sources …")

    def progress(stage: str, done: int, total: int) -> None:
        label = STAGES.get(stage, stage)
        bar.progress(min(done / total, 1.0) if total else 1.0, text=f"{label}: {done}/{total}")

    with shown_errors() as outcome:
        result = update_with_impact(svc, progress)
    bar.empty()
    if outcome.failed:
        return None
    return result.to_json()


def impact_section(impact: dict[str, Any]) -> None:
    """Which past answers the change in the law puts in question."""
    st.markdown("**Change impact**")
    counts = impact["counts"]
    if not impact["affected"]:
        st.caption("No recorded answer or labeled scenario cites a changed provision.")
        return
    st.caption(
        f"{counts['determinations']} recorded answer(s) and {counts['scenarios']} labeled "
        f"scenario(s) cite a changed provision; {counts['moved']} answer(s) moved."
    )
    moved = [a for a in impact["affected"] if a["moved"]]
    for a in moved:
        name = f"answer #{a['id']}" if a["kind"] == "determination" else f"scenario {a['id']}"
        st.warning(
            f"**{name}** moved: {'; '.join(a['why_moved'])}. Touched: "
            f"{', '.join(a['citations_touched'])}."
        )
        st.caption(a["description"])
    steady = [a for a in impact["affected"] if not a["moved"]]
    if steady:
        with st.expander(f"Affected but unchanged ({len(steady)})"):
            for a in steady:
                st.markdown(f"- {a['kind']} {a['id']}: {', '.join(a['citations_touched'])}")


def update_section() -> None:
    st.subheader("Update from the mirror")
    mirror = services().settings.corpus_mirror
    st.caption(
        f"Re-reads every source from {mirror or 'the official addresses'}; only changed "
        "passages are embedded again; the current version serves until the new one is complete."
    )
    if st.button("Update the corpus", type="primary"):
        result = run_update()
        if result is not None:
            st.session_state[RESULT] = result
            st.rerun()
    result = st.session_state.get(RESULT)
    if result:
        if result["new_version"]:
            st.success(
                f"Updated to {result['version']}: {result['added']} added, {result['changed']} "
                f"changed, {result['removed']} removed; {result['embedded']} embedded in "
                f"{result['seconds']} s."
            )
        else:
            st.info(f"Nothing changed: {result['version']} stays current.")
        if result.get("impact"):
            impact_section(result["impact"])


def main() -> None:
    require("read_corpus")
    st.title("Corpus")
    svc = services()
    with shown_errors() as outcome:
        versions = svc.db.all()
        current = svc.db.current()
    if outcome.failed:
        return
    if not versions:
        st.info("No index yet. An admin builds it with `tpo index build` (or the update below).")
    else:
        if current:
            st.caption(
                f"Answers cite **{current.id}** ({current.passages} passages, created "
                f"{current.created[:10]})."
            )
        versions_section(versions, current)
        report_section(versions)
        diff_section(versions)
    if can("update_corpus"):
        update_section()


main()
