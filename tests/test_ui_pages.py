"""Every page of the web app and its access control, driven by Streamlit's AppTest.

The services are real but for two fakes handed in through ``app.ui.common.use``: a
deterministic fake embedder and an in-memory Chroma, over an index of five sources.
Pages are run through the entry (``main.py``, which registers only the pages a role may
see) and also one by one, as a crafted request for an address the navigation never
offered would run them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import chromadb
import pytest
import streamlit as st
from chromadb.config import Settings as ChromaSettings
from langchain_core.embeddings import DeterministicFakeEmbedding
from streamlit.testing.v1 import AppTest

from app.access import Role, add_user
from app.scenarios import load_scenarios
from app.services import Services
from app.settings import Settings
from app.ui import common
from tests.conftest import CORPUS, SEEDS, SMALL, needs_corpus, write_manifest

pytestmark = needs_corpus

UI = Path(__file__).resolve().parents[1] / "app" / "ui"
PASSWORD = "correct horse battery"
PAID_MAILER = "A drug company pays us to email patients about its new inhaler."
WITH_IDS = (
    "Patient Maria Lopez (MRN 48213377, phone 555-201-3344): a drug company pays us to "
    "email patients about its new inhaler."
)


def page(name: str) -> AppTest:
    return AppTest.from_file(str(UI / name), default_timeout=120)


def fake_services(tmp_path: Path, mirror: Path = CORPUS, **settings: object) -> Services:
    s = Settings(
        data_dir=tmp_path / "data",
        manifest=write_manifest(tmp_path / "sources.toml", SMALL),
        corpus_mirror=mirror,
        seeds_mirror=SEEDS,
        user="tester",
        **settings,  # type: ignore[arg-type]
    )
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    for c in client.list_collections():  # the in-memory client outlives a test
        client.delete_collection(c.name)
    return Services(
        s,
        embedder_override=DeterministicFakeEmbedding(size=32),
        model_id="fake-32",
        client_override=client,
    )


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Services]:
    services = fake_services(tmp_path)
    manifest, snapshot = services.read_corpus()
    services.indexer().build(snapshot, manifest)
    st.cache_resource.clear()  # shared across AppTests in one process
    common.use(services)
    yield services
    common.use(None)
    st.cache_resource.clear()


def login_on(svc: Services) -> Path:
    """Switch the served settings to local login with one user of each role."""
    users = svc.settings.data_dir / "users.toml"
    for name, role in (("rex", Role.REQUESTER), ("rita", Role.REVIEWER), ("ann", Role.ADMIN)):
        add_user(users, name, role, PASSWORD)
    svc.settings = svc.settings.model_copy(update={"auth": "local"})
    common.use(svc)
    return users


def signed_in(at: AppTest, name: str) -> AppTest:
    at.session_state[common.SIGNED_IN] = name
    return at


def ask(at: AppTest, text: str) -> AppTest:
    at.chat_input[0].set_value(text)
    return at.run()


def texts(at: AppTest) -> str:
    parts = [e.value for kind in (at.error, at.success, at.info, at.warning) for e in kind]
    parts += [e.value for e in at.markdown] + [e.value for e in at.caption]
    return "\n".join(str(p) for p in parts)


def record_one(svc: Services, text: str) -> int:
    det = svc.pipeline("none").classify(text).to_json()
    return svc.audit.record(det, user="someone", source="web").id


# -- Ask ---------------------------------------------------------------------------------
def test_ask_shows_badge_citations_and_records_only_the_scrubbed_text(svc: Services) -> None:
    at = AppTest.from_file(str(UI / "main.py"), default_timeout=120).run()
    assert not at.exception
    ask(at, WITH_IDS)
    assert not at.exception
    assert any("marketing" in e.value and "authorization required" in e.value for e in at.error)
    assert any(e.label.startswith('45 CFR 164.501 "marketing"') for e in at.expander)
    assert any(c.value.startswith("Removed before storing:") for c in at.caption)
    turn = at.session_state["history"][0]
    for identifier in ("Maria Lopez", "48213377", "555-201-3344"):
        assert identifier not in json.dumps(turn)
    records = svc.audit.records()
    assert len(records) == 1 and records[0].user == "tester" and records[0].source == "web"
    assert "48213377" not in json.dumps(records[0].to_json())


def test_a_clarifying_answer_refines_the_same_activity(svc: Services) -> None:
    at = page("ask.py").run()
    ask(at, "We want to send patients a mailer about our new weight loss program.")
    assert any("insufficient facts" in c.value for c in at.caption)
    at.text_input[0].set_value("No one outside pays us anything for it.")
    at.button[0].click()
    at.run()
    assert not at.exception
    history = at.session_state["history"]
    assert len(history) == 2
    assert "mailer about our new weight loss program" in history[1]["description"]
    assert history[1]["question"] == "No one outside pays us anything for it."
    assert history[1]["answer"]["rules"]["category"] == "health_care_operations"


def test_a_new_activity_does_not_carry_the_last_one(svc: Services) -> None:
    at = page("ask.py").run()
    ask(at, PAID_MAILER)
    assert at.toggle[0].value is False  # the last answer was decided: a new message is new
    ask(at, "The hospital wants to sell its patient list to a data broker.")
    history = at.session_state["history"]
    assert history[1]["description"].startswith("The hospital wants to sell")
    assert history[1]["answer"]["category"] == "sale_of_phi"
    ask(at, "What if the broker only gets counts, de-identified?")  # a follow-up cue
    assert at.session_state["history"][2]["description"].startswith("The hospital wants to sell")


def test_input_the_user_can_fix_is_a_message(svc: Services) -> None:
    at = page("ask.py").run()
    ask(at, "   ")
    assert not at.exception
    ask(at, "Maria Lopez 555-201-3344")
    assert not at.exception
    assert any("only identifiers" in e.value for e in at.error)
    assert "history" not in at.session_state or not at.session_state["history"]


def test_an_empty_index_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    common.use(fake_services(tmp_path))
    try:
        at = page("ask.py").run()
        ask(at, "We send claims to the plan.")
        assert not at.exception
        assert any("tpo index build" in e.value for e in at.error)
    finally:
        common.use(None)


# -- access ------------------------------------------------------------------------------
def test_login_is_required_and_checks_the_password(svc: Services) -> None:
    login_on(svc)
    at = AppTest.from_file(str(UI / "main.py"), default_timeout=120).run()
    assert not at.chat_input  # no page but the sign-in form
    at.text_input[0].set_value("rita")
    at.text_input[1].set_value("not the password")
    at.button[0].click()
    at.run()
    assert any("wrong password" in e.value for e in at.error)
    assert common.SIGNED_IN not in at.session_state
    at.text_input[1].set_value(PASSWORD)
    at.button[0].click()
    at.run()
    assert not at.exception
    assert at.session_state[common.SIGNED_IN] == "rita"
    assert at.chat_input  # the Ask page, the default
    assert any("rita" in c.value and "reviewer" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("name", ["ask.py", "review.py", "corpus.py", "evaluate.py", "audit.py"])
def test_every_page_refuses_a_visitor_who_is_not_signed_in(svc: Services, name: str) -> None:
    login_on(svc)
    at = page(name).run()
    assert not at.exception
    assert any("not signed in" in e.value for e in at.error)
    assert not at.chat_input and not at.button and not at.selectbox


@pytest.mark.parametrize("name", ["review.py", "evaluate.py", "audit.py"])
def test_a_requester_who_crafts_the_address_gets_an_error(svc: Services, name: str) -> None:
    login_on(svc)
    at = signed_in(page(name), "rex")
    at.session_state["role"] = "admin"  # a crafted session says nothing: roles come from the file
    at.run()
    assert not at.exception
    assert any("rex (requester) may not" in e.value for e in at.error)
    assert not at.button and not at.selectbox


def test_a_requester_cannot_rule_even_with_a_form_in_hand(svc: Services) -> None:
    users = login_on(svc)
    det_id = record_one(svc, "We want to send patients a mailer about our new weight loss program.")
    at = signed_in(page("review.py"), "rita").run()
    assert at.selectbox[0].value.id == det_id
    # Demoted while the form is on screen: the action checks the role again.
    add_user(users, "rita", Role.REQUESTER, PASSWORD)
    at.text_area[0].set_value("Own program, no payment: operations.")
    at.button[0].click()
    at.run()
    assert any("may not rule" in e.value for e in at.error)
    assert not [r for r in svc.audit.records() if r.kind == "ruling"]
    assert not svc.settings.reviews_file.exists()


def test_a_reviewer_rules_and_the_ruling_becomes_a_scenario(svc: Services) -> None:
    login_on(svc)
    det_id = record_one(svc, "We want to send patients a mailer about our new weight loss program.")
    record_one(svc, PAID_MAILER)  # decided: not in the queue
    at = signed_in(page("review.py"), "rita").run()
    assert not at.exception
    assert len(at.selectbox[0].options) == 1
    at.selectbox[1].set_value("health_care_operations")
    at.radio[0].set_value("not required")
    at.button[0].click()  # no note yet
    at.run()
    assert any("needs a note" in e.value for e in at.error)
    at.text_area[0].set_value("Own program, no payment from anyone: operations.")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert any(f"on #{det_id} recorded" in s.value for s in at.success)
    assert any("Nothing waits for review" in i.value for i in at.info)
    ruling = [r for r in svc.audit.records() if r.kind == "ruling"]
    assert len(ruling) == 1 and ruling[0].user == "rita" and ruling[0].refers_to == det_id
    (scenario,) = load_scenarios(svc.settings.reviews_file)
    assert scenario.id == f"R{det_id}"
    assert scenario.expected.category.value == "health_care_operations"
    assert scenario.expected.authorization_required is False


def test_the_navigation_offers_each_role_its_pages_only(svc: Services) -> None:
    login_on(svc)
    at = signed_in(AppTest.from_file(str(UI / "main.py"), default_timeout=120), "rex").run()
    assert not at.exception and at.chat_input
    # The requester's navigation does not register the Review page at all: no address.
    with pytest.raises(ValueError, match="Could not find a navigation page") as refused:
        at.switch_page(str(UI / "review.py"))
    registered = str(refused.value).split("Known pages:")[1]
    assert "ask.py" in registered and "corpus.py" in registered
    assert not any(p in registered for p in ("review.py", "audit.py", "evaluate.py"))
    at = signed_in(AppTest.from_file(str(UI / "main.py"), default_timeout=120), "rita").run()
    at.switch_page(str(UI / "review.py")).run()
    assert not at.exception
    assert any(t.value == "Review" for t in at.title)


# -- Corpus ------------------------------------------------------------------------------
def test_corpus_lists_versions_and_only_an_admin_may_update(svc: Services) -> None:
    login_on(svc)
    at = signed_in(page("corpus.py"), "rex").run()
    assert not at.exception
    assert any(e.label.startswith("v1 · current") for e in at.expander)
    assert "hhs-faq-refill-reminders" in texts(at)
    assert not any(b.label == "Update the corpus" for b in at.button)
    at = signed_in(page("corpus.py"), "ann").run()
    (update,) = [b for b in at.button if b.label == "Update the corpus"]
    update.click()
    at.run()
    assert not at.exception
    assert any("Nothing changed: v1 stays current" in i.value for i in at.info)


def test_an_update_shows_its_changes_side_by_side_and_its_impact(
    tmp_path: Path, mirror_copy: Path
) -> None:
    services = fake_services(tmp_path, mirror=mirror_copy)
    manifest, snapshot = services.read_corpus()
    services.indexer().build(snapshot, manifest)
    st.cache_resource.clear()
    common.use(services)
    try:
        # A past answer that cites the marketing definition, then a change to that definition.
        record_one(services, PAID_MAILER)
        path = mirror_copy / "164.501.md"
        text = path.read_text(encoding="utf-8")
        assert "that encourages recipients" in text
        path.write_text(text.replace("that encourages recipients", "that urges recipients"))
        at = page("corpus.py").run()
        next(b for b in at.button if b.label == "Update the corpus").click()
        at.run()
        assert not at.exception
        assert any("Updated to v2" in s.value for s in at.success)
        assert any("Change impact" in m.value for m in at.markdown)
        assert "recorded answer(s)" in texts(at)
        # The change report of v2 and the diff, old and new text side by side.
        assert any("changed: 45 CFR 164.501" in m.value for m in at.markdown)
        assert any("that urges recipients" in m.value for m in at.markdown)
    finally:
        common.use(None)
        st.cache_resource.clear()


# -- Evaluate ----------------------------------------------------------------------------
def scenario_lines() -> bytes:
    rows = [
        {"id": "E1", "description": PAID_MAILER, "expected": {"category": "marketing"}},
        {
            "id": "E2",
            "description": "The hospital wants to sell its patient list to a data broker.",
            "expected": {"category": "sale_of_phi", "authorization_required": True},
        },
        {
            "id": "E3",
            "description": "Our clinic sends the claim for the visit to the patient's health plan.",
            "expected": {"category": "treatment"},  # wrong on purpose: an error to list
        },
    ]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def test_evaluate_runs_an_uploaded_file_and_shows_the_report(svc: Services) -> None:
    at = page("evaluate.py").run()
    at.radio[0].set_value("Upload a file")
    at.run()
    at.file_uploader[0].set_value(("mine.jsonl", scenario_lines(), "application/jsonl"))
    at.run()
    assert any("3 valid scenarios" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Run the evaluation").click()
    at.run()
    assert not at.exception
    runs = list((svc.settings.data_dir / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("mine-none-")
    assert (runs[0] / "report.html").is_file() and (runs[0] / "confusion.png").is_file()
    assert {m.label for m in at.metric} >= {"Accuracy", "Macro-F1", "Unsafe misses"}
    assert any("Wrong answers (" in m.value for m in at.markdown)
    assert at.dataframe and "E3" in at.dataframe[0].value["id"].tolist()
    assert {d.label for d in at.download_button} >= {
        "Download report.html",
        "Download report.md",
    }


def test_a_bad_scenario_file_is_a_message_listing_its_lines(svc: Services) -> None:
    at = page("evaluate.py").run()
    at.radio[0].set_value("Upload a file")
    at.run()
    bad = b'{"id": "X1", "description": "x", "expected": {"category": "gossip"}}\nnot json\n'
    at.file_uploader[0].set_value(("bad.jsonl", bad, "application/jsonl"))
    at.run()
    assert not at.exception
    message = "\n".join(e.value for e in at.error)
    assert "line 1" in message and "line 2" in message
    assert not any(b.label == "Run the evaluation" for b in at.button)
    at.file_uploader[0].set_value(
        ("latin.csv", "id,description,category\n1,caf\xe9,x\n".encode("latin-1"), "text/csv")
    )
    at.run()
    assert any("not UTF-8" in e.value for e in at.error)


# -- Audit -------------------------------------------------------------------------------
def test_audit_filters_exports_for_admins_and_verifies_the_chain(svc: Services) -> None:
    login_on(svc)
    record_one(svc, PAID_MAILER)
    record_one(svc, "The hospital wants to sell its patient list to a data broker.")
    at = signed_in(page("audit.py"), "ann").run()
    assert not at.exception
    assert at.dataframe[0].value.shape[0] == 2
    at.text_input[1].set_value("data broker")
    at.run()
    assert at.dataframe[0].value["category"].tolist() == ["sale_of_phi"]
    next(b for b in at.button if b.label == "Prepare CSV export").click()
    at.run()
    assert any(d.label == "Download 1 records (CSV)" for d in at.download_button)
    next(b for b in at.button if b.label == "Verify the chain").click()
    at.run()
    assert any("The chain holds: 2 records" in s.value for s in at.success)
    # A reviewer reads and verifies, but exporting the trail is an admin's action.
    at = signed_in(page("audit.py"), "rita").run()
    assert at.dataframe[0].value.shape[0] == 2
    assert not any("export" in b.label.lower() for b in at.button)


def test_audit_names_an_edited_record(svc: Services) -> None:
    first = record_one(svc, PAID_MAILER)
    record_one(svc, "The hospital wants to sell its patient list to a data broker.")
    from sqlalchemy import create_engine, text

    engine = create_engine(svc.settings.audit_db_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_records SET category = 'treatment' WHERE id = :i"), {"i": first}
        )
    at = page("audit.py").run()
    next(b for b in at.button if b.label == "Verify the chain").click()
    at.run()
    assert not at.exception
    assert any("The chain is broken" in e.value for e in at.error)
    assert any("edited" in m.value and f"#{first}" in m.value for m in at.markdown)


# -- documents on Ask ----------------------------------------------------------------------
LETTER = (
    "Dear patient,\n\nOur pharmacy will email you about the new inhaler from Acme Pharma. "
    "Acme Pharma pays us for every email we send.\n\nYour pharmacy team"
)


def test_a_document_is_answered_with_its_evidence_highlighted_and_can_be_rechecked(
    svc: Services,
) -> None:
    at = page("ask.py").run()
    at.segmented_control[0].set_value("A document")
    at.run()
    at.file_uploader[0].set_value(("letter.txt", LETTER.encode(), "text/plain"))
    at.run()
    next(b for b in at.button if b.label == "Check the document").click()
    at.run()
    assert not at.exception
    assert any("marketing" in e.value and "authorization required" in e.value for e in at.error)
    marked = [m.value for m in at.markdown if "<mark" in m.value]
    # The sentence that says who pays is marked, titled with the fact it set.
    assert re.search(
        r'<mark title="[^"]*remuneration: yes[^"]*">Acme Pharma pays us for every email we send\.'
        r"</mark>",
        marked[0],
    )
    records = svc.audit.records()
    assert len(records) == 1 and records[0].payload.get("file") == "letter.txt"
    # Edit away the payment and check again: the answer follows the edited text.
    at.text_area[0].set_value(LETTER.replace("Acme Pharma pays us for every email we send.", ""))
    next(b for b in at.button if b.label == "Re-check").click()
    at.run()
    assert not at.exception
    assert len(svc.audit.records()) == 2
    assert "Acme Pharma pays us" not in at.session_state["_doc"]["text"]


def test_several_documents_give_a_table_and_a_broken_file_is_a_row(svc: Services) -> None:
    at = page("ask.py").run()
    at.segmented_control[0].set_value("Several documents")
    at.run()
    at.file_uploader[0].set_value(
        [
            ("letter.txt", LETTER.encode(), "text/plain"),
            ("sale.txt", b"The hospital wants to sell its patient list to a broker.", "text/plain"),
            ("broken.pdf", b"this is not a pdf at all", "application/pdf"),
        ]
    )
    at.run()
    next(b for b in at.button if b.label == "Check them all").click()
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["file"].tolist() == ["letter.txt", "sale.txt", "broken.pdf"]
    assert table["category"].tolist()[:2] == ["marketing", "sale of phi"]
    assert any("broken.pdf" in e.value for e in at.error)
    assert [r.kind for r in svc.audit.records()] == ["batch", "batch"]


def test_highlighting_escapes_the_text_and_merges_overlaps() -> None:
    from app.doc_classify import Evidence
    from app.ui.doc_flow import highlighted

    text = "<b>We</b> sell the list & get paid."
    ev = [
        Evidence("sale", "yes", 10, 23, text[10:23], False),
        Evidence("remuneration", "yes", 20, 34, text[20:34], False),
        Evidence("context_fact", "yes", 0, 3, "abc", True),  # from the note, not the text
    ]
    out = highlighted(text, ev)
    assert out.startswith("&lt;b&gt;We&lt;/b&gt; ")
    assert out.count("<mark") == 1 and out.count("</mark>") == 1
    assert 'title="sale: yes; remuneration: yes"' in out
    assert "</mark> <small" in out and "[sale: yes; remuneration: yes]</small>" in out
    assert "&amp; get paid" in out
