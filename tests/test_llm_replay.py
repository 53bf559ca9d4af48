"""Recorded real replies of the embedded model, replayed through LangChain's fake chat model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.language_models import FakeListChatModel

from app.llm import json_text_backend
from app.models import Category
from app.services import Services
from tests.conftest import needs_corpus

REPLIES = [
    json.loads(line)
    for line in (Path(__file__).parent / "fixtures" / "smollm-replies.jsonl")
    .read_text()
    .splitlines()
]


@needs_corpus
@pytest.mark.parametrize("reply", REPLIES, ids=[r["description"][:40] for r in REPLIES])
def test_a_recorded_embedded_reply_is_parsed_checked_and_never_decides(
    fake_services: Services, reply: dict[str, str]
) -> None:
    manifest, snapshot = fake_services.read_corpus()
    fake_services.indexer().build(snapshot, manifest)
    chat = FakeListChatModel(responses=[reply["raw"]])
    fake_services.llm_override = json_text_backend(
        "embedded", chat, "SmolLM2 (recorded)", 0.1, None
    )
    det = fake_services.pipeline("embedded").classify(reply["description"])
    assert det.llm is not None and "error" not in det.llm
    assert Category(det.llm["category"])  # a valid label, under the grammar
    assert det.category == det.rules.category  # the tiny model's category is only shown
    retrieved = {c.passage_id for c in det.citations}
    assert set(det.llm["citations"]) <= retrieved | {f"P{i}" for i in range(1, 40)}
