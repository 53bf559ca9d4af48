"""Ask: staff describe an activity in plain words and get a cited answer they can verify.

Run with ``tpo serve``.  Models, index and retriever load once per server process
(``st.cache_resource``); errors a user can fix are shown as messages, never as
tracebacks.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.services import Services
from app.settings import Settings
from indexer.errors import TpoError

BACKENDS = ["none", "embedded", "openai", "ollama"]
EMBEDDED_NOTE = (
    "The embedded model (SmolLM2-135M) is far too small to decide a legal question: it picks "
    "passages and phrases a rationale, and its category is shown as a low-confidence opinion. "
    "The rules and similar decided cases decide."
)


@st.cache_resource(show_spinner="Loading the index and models …")
def services() -> Services:
    svc = Services(Settings())
    svc.searcher.version()  # warm: the index, BM25 and the embedder load now, not on question 1
    return svc


def badge(det: dict[str, Any]) -> None:
    category = det["category"].replace("_", " ")
    if det["authorization_required"]:
        st.error(f"**{category}** — authorization required", icon="🔒")
    else:
        st.success(f"**{category}** — no authorization needed", icon="✅")
    status = det["status"].replace("_", " ")
    note = {
        "confirmed": "rules, similar cases and model agree or do not weigh against it",
        "needs review": "the opinions disagree: a privacy officer should review",
        "insufficient facts": "a deciding fact is missing: answer the questions below",
    }
    st.caption(f"Status: **{status}** — {note.get(status, '')}")


def show(det: dict[str, Any], key: str) -> None:
    badge(det)
    if det["operations_paragraph"]:
        st.write(
            f"Health care operations, paragraph {det['operations_paragraph']} of the "
            "definition in 45 CFR 164.501."
        )
    st.write(det["rationale"])
    if det["status"] == "needs_review":
        cols = st.columns(len(det["agreement"]))
        for col, (name, a) in zip(cols, det["agreement"].items(), strict=True):
            auth = "authorization required" if a["authorization_required"] else "no authorization"
            col.metric(name, a["category"].replace("_", " "), auth, delta_color="off")
    if det["citations"]:
        st.markdown("**Cited provisions**")
        for c in det["citations"]:
            with st.expander(f"{c['citation']} — text as of {c['as_of']}"):
                st.write(c["text"])
                if c["quote"]:
                    st.caption(f"Quoted: “{c['quote']}”")
                if c["url"]:
                    st.caption(f"Official source: {c['url']}")
    if det["obligations"]:
        st.markdown("**What comes with this answer**")
        for o in det["obligations"]:
            st.markdown(f"- {o['text']} ({o['citation']})")
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
    if det["clarifying_questions"]:
        with st.form(f"clarify-{key}"):
            st.markdown("**To answer with confidence, tell us:**")
            answers = [
                st.text_input(q, key=f"{key}-q{i}")
                for i, q in enumerate(det["clarifying_questions"])
            ]
            if st.form_submit_button("Answer and re-check"):
                extra = " ".join(a.strip() for a in answers if a.strip())
                if extra:
                    st.session_state["pending"] = extra


def main() -> None:
    st.set_page_config(page_title="tpo-check", page_icon="⚖️", layout="centered")
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
    history: list[dict[str, Any]] = st.session_state.setdefault("history", [])
    for i, turn in enumerate(history):
        with st.chat_message("user"):
            st.write(turn["question"])
        with st.chat_message("assistant"):
            show(turn["answer"], str(i))
    asked = st.chat_input("Describe the proposed use or disclosure …")
    pending = st.session_state.pop("pending", None)
    if pending and history:
        # A follow-up refines the same activity: the facts accumulate.
        asked = f"{history[-1]['description']} {pending}"
    elif asked and history and asked.lower().startswith(("and ", "also ", "what if", "but ")):
        asked = f"{history[-1]['description']} {asked}"
    if not asked:
        return
    try:
        with st.spinner("Checking the rules, the regulation and similar cases …"):
            det = services().pipeline(backend).classify(asked)
    except TpoError as exc:
        st.error(exc.user_message())
        return
    except Exception as exc:  # never a traceback in front of staff
        st.error(
            f"Something went wrong ({type(exc).__name__}). The error was logged for the "
            "maintainers; please try again."
        )
        return
    history.append({"question": pending or asked, "description": asked, "answer": det.to_json()})
    st.rerun()


main()
