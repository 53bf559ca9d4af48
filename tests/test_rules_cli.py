"""`tpo rules`: the rules' verdict from the command line, as text or JSON."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from app.cli import app

runner = CliRunner()


def test_rules_json_gives_category_authorization_citations_trace_and_facts() -> None:
    result = runner.invoke(
        app, ["rules", "A drug company pays us to email patients about its new inhaler.", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["category"] == "marketing" and data["authorization_required"] is True
    assert data["status"] == "decided"
    assert '45 CFR 164.501 "marketing" (1)' in data["citations"]
    assert data["trace"][0]["rule"] == "paid_communication"
    assert data["facts"]["remuneration"]["state"] == "yes"
    assert any(o["citation"] == "45 CFR 164.508(a)(3)(ii)" for o in data["obligations"])


def test_rules_reads_the_description_from_stdin() -> None:
    result = runner.invoke(app, ["rules", "-"], input="A patient asks for a copy of her records.")
    assert result.exit_code == 0
    assert "to_individual" in result.stdout


def test_an_unknown_purpose_shows_the_clarifying_question() -> None:
    result = runner.invoke(app, ["rules", "Can we send the spreadsheet to Jim?"])
    assert result.exit_code == 0
    assert "insufficient facts" in result.stdout and "question:" in result.stdout


def test_an_empty_description_is_a_clear_error() -> None:
    result = runner.invoke(app, ["rules", "   "])
    assert result.exit_code == 2
    assert "the description is empty" in result.output
