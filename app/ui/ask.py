"""Ask: staff describe an activity in plain words and get a cited answer they can verify.

A page of the web app (``tpo serve`` → ``app/ui/main.py``).  The session keeps the
conversation, but only as the scrubber left it: the description that is stored and
shown again is ``scrubbed_description``, never the text as typed.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.ui.answer import questions_form, show, storable
from app.ui.common import audit, require, services, shown_errors
from app.ui.documents_view import several_documents, single_document

BACKENDS = ["none", "embedded", "openai", "ollama"]
EMBEDDED_NOTE = (
    "The embedded model (SmolLM2-135M) is far too small to decide a legal question: it picks "
    "passages and phrases a rationale, and its category is shown as a low-confidence opinion. "
    "The rules and similar decided cases decide."
)
MODES = ["An activity", "A document", "Several documents"]
# A message starting with one of these adds to the activity above instead of starting anew.
FOLLOW_UP_CUES = ("and ", "also ", "what if", "but ", "no,", "yes,", "no ", "yes ")


def refines(text: str, history: list[dict[str, Any]], add_to_last: bool) -> str:
    """The description to classify: a follow-up is added to the activity it refines."""
    if history and (add_to_last or text.strip().lower().startswith(FOLLOW_UP_CUES)):
        return f"{history[-1]['description']} {text.strip()}"
    return text


def classify_and_record(description: str, backend: str) -> dict[str, Any] | None:
    """Classify, record in the audit trail, and return the determination's JSON."""
    require("ask")  # again, right before the action
    with (
        shown_errors() as outcome,
        st.spinner("Checking the rules, the regulation and similar cases …"),
    ):
        det = services().pipeline(backend).classify(description).to_json()
    if outcome.failed:
        return None
    user = require("ask")
    with shown_errors() as recorded:
        audit().record(det, user=user.name, source="web")
    if recorded.failed:
        st.warning("This answer could not be recorded in the audit trail.")
    return det


def main() -> None:
    require("ask")
    st.title("tpo-check")
    st.caption(
        "What is this use or disclosure of PHI under the HIPAA Privacy Rule, and does it "
        "need the patient's authorization? Every answer cites 45 CFR Part 164."
    )
    backend = st.sidebar.selectbox("LLM for the third opinion", BACKENDS, index=0)
    if backend == "embedded":
        st.sidebar.info(EMBEDDED_NOTE)
    st.sidebar.caption(
        "A decision aid, not legal advice. Read the cited text before relying on an answer."
    )
    mode = st.segmented_control(
        "Ask about", MODES, default=MODES[0], key="ask-mode", label_visibility="collapsed"
    )
    if mode == MODES[1]:
        single_document(backend)
        return
    if mode == MODES[2]:
        several_documents(backend)
        return
    history: list[dict[str, Any]] = st.session_state.setdefault("history", [])
    pending: str | None = None
    for i, turn in enumerate(history):
        with st.chat_message("user"):
            st.write(turn["question"])
        with st.chat_message("assistant"):
            show(turn["answer"], str(i), stream=not turn.get("shown", False))
            turn["shown"] = True
            extra = questions_form(turn["answer"], str(i))
            if extra:
                pending = f"{turn['description']} {extra}"
    add_to_last = False
    if history:
        last = history[-1]["answer"]
        cols = st.columns([3, 1])
        add_to_last = cols[0].toggle(
            "My next message adds to this activity",
            value=last["status"] == "insufficient_facts",
            key=f"add-{len(history)}",
        )
        if cols[1].button("New activity", key="new-activity"):
            st.session_state["history"] = []
            st.rerun()
    asked = st.chat_input("Describe the proposed use or disclosure …")
    if pending is None and not asked:
        return
    description = pending or refines(str(asked), history, add_to_last)
    det = classify_and_record(description, backend)
    if det is None:
        return
    stored = det.get("scrubbed_description", description)
    question = stored
    if history and stored.startswith(history[-1]["description"]):  # a follow-up: its new words
        question = stored[len(history[-1]["description"]) :].strip() or stored
    history.append({"question": question, "description": stored, "answer": storable(det)})
    st.rerun()


main()
