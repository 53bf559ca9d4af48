"""Scenario files: validated line by line; metrics that count what matters."""

from __future__ import annotations

import json

import pytest

from app.scenarios import ScenarioFileError, parse_scenarios
from evaluation.metrics import Prediction, citation_scores, summarize

GOOD = {
    "id": "S001",
    "description": "Refill reminder paid at cost.",
    "expected": {
        "category": "treatment",
        "authorization_required": False,
        "citations": ["45 CFR 164.501"],
    },
}


def jsonl(*rows: object) -> str:
    return "\n".join(json.dumps(r) if not isinstance(r, str) else r for r in rows)


def test_a_valid_json_lines_file_loads() -> None:
    [s] = parse_scenarios(jsonl(GOOD), "x.jsonl")
    assert s.id == "S001" and s.expected.category.value == "treatment"


def test_every_bad_line_is_reported_with_its_number_and_nothing_loads() -> None:
    text = jsonl(
        GOOD,
        "{not json",
        {**GOOD, "id": "S002", "expected": {"category": "advertising"}},
        {**GOOD, "id": "S003", "expected": {"category": "payment", "citations": ["HIPAA"]}},
        {**GOOD, "id": "S001"},
        {"id": "S004", "expected": {"category": "payment"}},
    )
    with pytest.raises(ScenarioFileError) as info:
        parse_scenarios(text, "bad.jsonl")
    message = str(info.value)
    assert "5 invalid line(s)" in message
    for expected in (
        "line 2: not JSON",
        "line 3: expected.category",
        "line 4: expected.citations",
        "line 5: id 'S001' already used on line 1",
        "line 6: description",
    ):
        assert expected in message


def test_a_csv_with_the_labels_md_columns_loads() -> None:
    text = (
        "id,description,category,authorization_required,citations\n"
        'C1,"Sell the list to a broker",sale_of_phi,true,'
        "45 CFR 164.502(a)(5)(ii); 45 CFR 164.508(a)(4)\n"
        "C2,Claims to the plan,payment,,\n"
    )
    a, b = parse_scenarios(text, "x.csv")
    assert a.expected.authorization_required is True and len(a.expected.citations) == 2
    assert b.expected.authorization_required is None and b.expected.citations == ()


def test_a_csv_without_the_required_columns_is_refused() -> None:
    with pytest.raises(ScenarioFileError, match="lacks the columns"):
        parse_scenarios("id,text\n1,x\n", "x.csv")


def test_a_csv_with_a_bad_authorization_value_names_its_line() -> None:
    text = "id,description,category,authorization_required\nC1,x,payment,maybe\n"
    with pytest.raises(ScenarioFileError, match=r"line 2: expected\.authorization_required"):
        parse_scenarios(text, "x.csv")


def test_citations_match_by_section_and_path_prefix() -> None:
    assert citation_scores(
        ["45 CFR 164.508(a)(3)"], ["45 CFR 164.508(a)(3)(i)(A)", "45 CFR 164.506(c)"]
    ) == (1, 1, 2)


def test_unsafe_misses_count_required_authorizations_answered_not_required() -> None:
    scenarios = parse_scenarios(
        jsonl(
            {
                "id": "A",
                "description": "x",
                "expected": {"category": "marketing", "authorization_required": True},
            },
            {
                "id": "B",
                "description": "y",
                "expected": {"category": "treatment", "authorization_required": False},
            },
            {"id": "C", "description": "z", "expected": {"category": "payment"}},
        ),
        "s.jsonl",
    )
    summary = summarize(
        scenarios,
        [
            Prediction("A", "health_care_operations", False),
            Prediction("B", "treatment", True),
            Prediction("C", "payment", False, status="insufficient_facts"),
        ],
    )
    assert summary["n"] == 3 and summary["accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert summary["unsafe_misses"] == 1 and summary["unsafe_miss_ids"] == ["A"]
    assert summary["authorization_accuracy"] == 0.0
    assert summary["per_label"]["marketing"]["recall"] == 0.0
    assert summary["insufficient_facts_rate"] == pytest.approx(1 / 3, abs=1e-3)
