"""Bad input to the classifier: each case a clear message or a visible notice, nothing lost."""

from __future__ import annotations

import json

import pytest
from langchain_core.language_models import FakeListChatModel
from langchain_core.messages import BaseMessage

from app.inputs import LLM_MAX_CHARS, MAX_CHARS, clean, decode, for_llm
from app.llm import LLMBackend, json_text_backend
from app.pipeline import Pipeline
from app.services import Services
from indexer.errors import UserInputError
from tests.conftest import needs_corpus

PAID = "A drug company pays us to email patients about its new inhaler."
REPLY = {
    "category": "marketing",
    "authorization_required": True,
    "citations": ["P1"],
    "quotes": [],
    "rationale": "Paid communication about a third party's product.",
}


@pytest.mark.parametrize("text", ["", "   ", "\n\t \n"])
def test_an_empty_or_blank_description_is_refused_with_what_to_do(text: str) -> None:
    with pytest.raises(UserInputError, match="empty") as exc:
        clean(text)
    assert "Describe" in exc.value.user_message()


def test_a_description_over_the_limit_is_refused_and_names_the_size() -> None:
    with pytest.raises(UserInputError, match="limit is 200,000") as exc:
        clean("We send claims to the plan. " * (MAX_CHARS // 20))
    assert "--file" in exc.value.user_message()


def test_a_100_kb_description_is_read_whole() -> None:
    text = ("We send the claim to the health plan for payment. " * 2100)[:100_000]
    assert len(clean(text).text) == 100_000


def test_nul_bytes_are_removed_with_a_notice() -> None:
    out = clean("We send claims\x00 to the plan\x00.")
    assert "\x00" not in out.text and "claims" in out.text
    assert any("control character" in n for n in out.notices)


def test_binary_data_is_refused() -> None:
    blob = bytes(range(256)).decode("latin-1") * 8
    with pytest.raises(UserInputError, match="binary"):
        clean(blob)


def test_non_utf8_bytes_name_the_offending_byte() -> None:
    with pytest.raises(UserInputError, match=r"0xe9 at offset 9") as exc:
        decode("We send r\xe9sum\xe9s".encode("latin-1"), "standard input")
    assert "UTF-8" in exc.value.user_message()
    assert decode("\ufeffWe send claims".encode()) == "We send claims"


@pytest.mark.parametrize(
    "text",
    [
        "Queremos enviar los registros del paciente a su cardiólogo para su tratamiento.",
        "患者の記録を心臓専門医に送りたい。",
    ],
)
def test_non_english_text_gets_a_notice(text: str) -> None:
    assert any("English" in n for n in clean(text).notices)


def test_english_text_gets_no_notice() -> None:
    assert clean(PAID).notices == ()


def test_the_llm_sees_at_most_its_share_of_a_long_text() -> None:
    text, notice = for_llm("word " * 5000)
    assert len(text) <= LLM_MAX_CHARS + 2 and notice and "rules read all" in notice
    assert for_llm(PAID) == (PAID, None)


# -- through the pipeline --------------------------------------------------------------------


@pytest.fixture
def svc(fake_services: Services) -> Services:
    manifest, snapshot = fake_services.read_corpus()
    fake_services.indexer().build(snapshot, manifest)
    fake_services.settings.precedent_files = []
    return fake_services


class Spy:
    """A chat backend that records what it was sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def backend(self) -> LLMBackend:
        chat = FakeListChatModel(responses=[json.dumps(REPLY)] * 5)
        inner = json_text_backend("spy", chat, "recorded", 0.7, None)

        def ask(messages: list[BaseMessage], schema: dict[str, object]) -> object:
            self.sent.append("\n".join(str(m.content) for m in messages))
            return inner.ask(messages, schema)

        return LLMBackend("spy", "recorded", 0.7, ask)


@needs_corpus
def test_identifiers_never_reach_the_llm_and_the_user_sees_what_was_removed(
    svc: Services,
) -> None:
    spy = Spy()
    pipe = Pipeline(svc.retriever, None, spy.backend())
    det = pipe.classify(
        "Patient Maria Lopez (MRN 48213377, phone 555-201-3344, maria.lopez@example.com): " + PAID
    )
    assert spy.sent, "the LLM was asked"
    for value in ("Maria", "Lopez", "48213377", "555-201-3344", "maria.lopez@example.com"):
        assert value not in spy.sent[0]
        assert value not in det.scrubbed_description
    assert det.redaction_summary and det.redactions
    assert all("value" not in r for r in det.redactions)
    assert det.rules.category.value == "marketing"


@needs_corpus
def test_the_same_verdict_with_and_without_identifiers(svc: Services) -> None:
    pipe = Pipeline(svc.retriever)
    plain = pipe.classify(PAID)
    named = pipe.classify("For Mr. John Whitaker, DOB 03/14/1961: " + PAID)
    assert (named.category, named.authorization_required, named.status) == (
        plain.category,
        plain.authorization_required,
        plain.status,
    )


@needs_corpus
def test_a_description_made_only_of_identifiers_is_a_clear_message(svc: Services) -> None:
    with pytest.raises(UserInputError, match="only identifiers") as exc:
        Pipeline(svc.retriever).classify("John Smith, MRN 48213377, 555-201-3344, 03/14/1961")
    assert "Say what is to be done" in exc.value.user_message()


@needs_corpus
def test_a_failing_llm_leaves_the_rules_answer_with_a_visible_notice(svc: Services) -> None:
    def down(messages: list[BaseMessage], schema: dict[str, object]) -> object:
        raise ConnectionError("connection refused")

    det = Pipeline(svc.retriever, None, LLMBackend("openai", "m", 0.7, down)).classify(PAID)
    assert det.category.value == "marketing" and det.authorization_required
    assert any("did not answer" in n and "rules" in n for n in det.notices)
    assert det.llm is not None and "connection refused" in det.llm["error"]


@needs_corpus
def test_a_long_description_is_classified_whole_and_shortened_for_the_llm(
    svc: Services,
) -> None:
    spy = Spy()
    filler = "The committee met and discussed the schedule for next quarter. " * 1600
    det = Pipeline(svc.retriever, None, spy.backend()).classify(filler + PAID)
    assert len(filler) > 100_000
    assert det.rules.category.value == "marketing"  # the rules read the end of the text
    assert any("first" in n and "characters" in n for n in det.notices)
    assert len(spy.sent[0]) < LLM_MAX_CHARS + 6000  # passages + the shortened description


@needs_corpus
def test_the_determination_carries_what_the_audit_trail_needs(svc: Services) -> None:
    det = Pipeline(svc.retriever, None, Spy().backend(), "fake-32").classify(PAID).to_json()
    assert det["rules_version"].startswith("rules-")
    assert det["model_id"] == {"embedder": "fake-32", "llm": "spy:recorded"}
    assert det["prompt_hash"] and len(det["prompt_hash"]) == 64
    assert det["retrieved_scores"] and {"ref", "pid", "score", "reason"} <= set(
        det["retrieved_scores"][0]
    )
