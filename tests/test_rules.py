"""The rule module, table-driven from YAML: every case name is a sentence of law."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import rules as rules_module
from app.facts import extract_facts, load_lexicon
from app.models import Category
from app.rules import RULES, decide
from indexer.models import Citation

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "rules" / "verdicts.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_verdict(case: dict[str, Any]) -> None:
    verdict = decide(extract_facts(case["description"]))
    expect = case["expect"]
    trace = [(t.rule, t.facts) for t in verdict.trace]
    assert verdict.category == Category(expect["category"]), trace
    assert verdict.authorization_required is expect["authorization"], trace
    if "status" in expect:
        assert verdict.status == expect["status"], trace
    if "paragraph" in expect:
        assert verdict.operations_paragraph == expect["paragraph"]
    for wanted in expect.get("cites", []):
        w = Citation.parse(wanted)
        assert any(Citation.parse(c).matches(w) for c in verdict.citations), verdict.citations


def test_every_label_has_at_least_three_cases() -> None:
    counts = {c: 0 for c in Category}
    for case in CASES:
        counts[Category(case["expect"]["category"])] += 1
    assert min(counts.values()) >= 3, counts


def test_the_same_description_always_gets_the_same_verdict() -> None:
    text = CASES[0]["description"]
    assert decide(extract_facts(text)) == decide(extract_facts(text))


def test_every_verdict_names_its_provisions_and_a_trace() -> None:
    for case in CASES:
        verdict = decide(extract_facts(case["description"]))
        assert verdict.citations and verdict.trace
        assert all(o.citation for o in verdict.obligations)


def test_every_rule_states_its_legal_condition_and_reference() -> None:
    for r in RULES:
        assert len(r.condition) > 60, r.name
        Citation.parse(r.citation)


def emitted_citations() -> set[str]:
    """Every citation the rules or the lexicon can put in front of a user."""
    source = inspect.getsource(rules_module)
    found = set(re.findall(r"""["'](45 CFR [^"']+?|45 CFR 164\.501 "[^"]+"[^'"]*)["']""", source))
    found |= {m for m in re.findall(r"'(45 CFR 164\.501 \"[^']+)'", source)}
    found |= {f'45 CFR 164.501 "health care operations" {p}' for _n, p in rules_module._OPERATIONS}
    found |= {e.provision for e in load_lexicon().entries}
    return {c for c in found if "{" not in c}


def test_the_citation_list_is_collected() -> None:
    cites = emitted_citations()
    assert '45 CFR 164.501 "marketing" (2)(i)' in cites
    assert "45 CFR 164.508(a)(3)(i)(B)" in cites
    assert len(cites) > 40


FACT_CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "rules" / "facts.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", FACT_CASES, ids=[c["name"] for c in FACT_CASES])
def test_facts(case: dict[str, Any]) -> None:
    facts = extract_facts(case["description"])
    got = {name: getattr(facts, name).state for name in case["facts"]}
    assert got == case["facts"], facts.to_json()


def test_every_yes_or_no_carries_the_words_that_set_it() -> None:
    facts = extract_facts("No one pays us for the mailer about our new clinic.")
    assert facts.remuneration.no and "No one pays us" in facts.remuneration.evidence[0]


@pytest.mark.skipif(
    not (Path(__file__).resolve().parents[2] / "shared" / "corpus").is_dir(),
    reason="../shared/corpus not present",
)
def test_every_citation_the_rules_can_emit_exists_in_the_built_index(tmp_path: Path) -> None:
    from tests.conftest import missing_from_real_corpus

    assert not missing_from_real_corpus(sorted(emitted_citations()), tmp_path)
