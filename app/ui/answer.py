"""One answer on screen: badge, rationale, citations, obligations, trace, questions.

Only simple, narrow elements (alerts, captions, expanders, bullet lists; columns that
Streamlit stacks below 640 px), so an answer reads the same on a laptop and a phone.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import streamlit as st

from app.scrub import describe, scrub_determination
from app.ui.common import badge

# The backends return one structured answer, so what streams is the composed rationale:
# a few words at a time, so a long answer starts reading at once.
STREAM_WORDS = 4
STREAM_PAUSE_S = 0.02


def storable(det: dict[str, Any]) -> dict[str, Any]:
    """The answer as it may be kept in the session: the rules read the words as typed, so
    the evidence of each fact quotes them; that, and any other free text, is scrubbed."""
    return scrub_determination(det)


def chunks(text: str, words: int = STREAM_WORDS, pause: float = STREAM_PAUSE_S) -> Iterator[str]:
    parts = text.split(" ")
    for i in range(0, len(parts), words):
        yield " ".join(parts[i : i + words]) + (" " if i + words < len(parts) else "")
        if pause:
            time.sleep(pause)


def removed_summary(redactions: list[dict[str, Any]]) -> str | None:
    """'Removed before storing: 1 name, 2 dates' from the scrubber's redactions."""
    if not redactions:
        return None
    counts = Counter(str(r.get("kind", "identifier")) for r in redactions)
    return "Removed before storing: " + describe(dict(counts.most_common())) + "."


def show(det: dict[str, Any], key: str, *, stream: bool = False) -> None:
    """Draw ``det``; ``stream`` writes the rationale a few words at a time (newest answer)."""
    for notice in det.get("notices", []):
        st.info(notice)
    summary = removed_summary(det.get("redactions", []))
    if summary:
        st.caption(summary)
    badge(det)
    if det.get("operations_paragraph"):
        st.write(
            f"Health care operations, paragraph {det['operations_paragraph']} of the "
            "definition in 45 CFR 164.501."
        )
    if stream:
        st.write_stream(chunks(det["rationale"]))
    else:
        st.write(det["rationale"])
    if det["status"] == "needs_review" and det.get("agreement"):
        st.markdown("**The opinions side by side**")
        cols = st.columns(len(det["agreement"]))
        for col, (name, a) in zip(cols, det["agreement"].items(), strict=True):
            # Plain text, not st.metric: its large font cuts the category at a phone's width.
            auth = "authorization required" if a["authorization_required"] else "no authorization"
            weight = f", weight {a['weight']}" if "weight" in a else ""
            col.markdown(
                f"**{name}**  \n{a['category'].replace('_', ' ')}  \n{auth}{weight}"
                + ("" if a.get("agrees", True) else "  \n*disagrees*")
            )
    if det["citations"]:
        st.markdown("**Cited provisions**")
        for c in det["citations"]:
            with st.expander(f"{c['citation']} — text as of {c['as_of']}"):
                st.write(c["text"])
                if c.get("quote"):
                    st.caption(f"Quoted: “{c['quote']}”")
                if c.get("url"):
                    st.caption(f"Official source: {c['url']}")
    if det["obligations"]:
        st.markdown("**What comes with this answer**")
        for o in det["obligations"]:
            st.markdown(f"- {o['text']} ({o['citation']})")
    contents = det.get("authorization_contents") or []
    if contents:
        with st.expander("What the authorization must contain"):
            for r in contents:
                st.markdown(f"- {r['text']} ({r['citation']})")
    with st.expander("How the rules decided"):
        for t in det["rules"]["trace"]:
            st.markdown(
                f"- `{t['rule']}` ({t['citation']}) on {', '.join(t['facts']) or '—'}: "
                f"{t['outcome']}"
            )
    if det["precedents"]:
        with st.expander("Similar decided cases"):
            for p in det["precedents"][:3]:
                st.markdown(
                    f"- **{p['category']}** (similarity {p['similarity']:.2f}): {p['description']}"
                )
    for flag in det["flags"]:
        st.warning(flag)


def questions_form(det: dict[str, Any], key: str) -> str | None:
    """The clarifying questions as a form; the answers joined, once submitted."""
    if not det["clarifying_questions"]:
        return None
    with st.form(f"clarify-{key}"):
        st.markdown("**To answer with confidence, tell us:**")
        answers = [
            st.text_input(q, key=f"{key}-q{i}") for i, q in enumerate(det["clarifying_questions"])
        ]
        if st.form_submit_button("Answer and re-check"):
            extra = " ".join(a.strip() for a in answers if a.strip())
            return extra or None
    return None
