"""The identifier scrubber: what it removes, what it must keep, and that verdicts survive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from app import cli_scrub
from app.facts import extract_facts
from app.rules import decide
from app.scenarios import load_scenarios
from app.scrub import (
    KINDS,
    PLACEHOLDER,
    IdentifierLeakError,
    ensure_clean,
    residual,
    scrub,
    scrub_json,
)
from evaluation.phi_eval import evaluate, run
from evaluation.phi_synth import generate

SCENARIOS = Path(__file__).resolve().parents[1] / "evaluation" / "scenarios"

# (sentence, the identifier in it, the kind it must be removed as)
EACH_KIND = [
    ("Please send Jane Whitaker's records to her new cardiologist.", "Jane Whitaker", "name"),
    ("Dr. Okafor wrote the appeal letter.", "Okafor", "name"),
    ("Her roommate Kelly will pick up the CD.", "Kelly", "name"),
    ("pt maria lopez called about her bill", "maria lopez", "name"),
    ("Can the nurse give Joy's husband the instructions?", "Joy", "name"),
    ("Re: Sanders, Emily - the subpoena came without an order.", "Sanders, Emily", "name"),
    (
        "Mail it to 4417 Birchwood Ave Apt 3C, Dayton, OH 45402.",
        "4417 Birchwood Ave Apt 3C",
        "address",
    ),
    ("Mail it to 4417 Birchwood Ave, Dayton, OH 45402.", "Dayton", "address"),
    ("Mail it to 4417 Birchwood Ave, Dayton, OH 45402.", "45402", "zip"),
    ("She lives in Harlan County and wants the file.", "Harlan County", "address"),
    ("DOB 03/14/1961, seen in the ED.", "03/14/1961", "date"),
    ("Admitted March 14, 1961 for a fall.", "March 14, 1961", "date"),
    ("Discharged 14 Mar 2024 to a SNF.", "14 Mar 2024", "date"),
    ("Labs drawn 2024-03-14 are back.", "2024-03-14", "date"),
    ("A 93-year-old resident fell last night.", "93", "age"),
    ("Call the son at (555) 201 3344 tonight.", "(555) 201 3344", "phone"),
    ("Her cell is +1 555 201 3344.", "+1 555 201 3344", "phone"),
    ("Fax the chart to 555-201-3345 today.", "555-201-3345", "fax"),
    ("The daughter wrote from mary.o+rx@mail.example.org.", "mary.o+rx@mail.example.org", "email"),
    ("Collections wants SSN 123-45-6789.", "123-45-6789", "ssn"),
    ("MRN 48213377 asked for an amendment.", "48213377", "mrn"),
    ("Member ID XJH445566778 was denied.", "XJH445566778", "health_plan_id"),
    ("Account number 4471992210 is past due.", "4471992210", "account"),
    ("Driver's license D1234567 was scanned.", "D1234567", "license"),
    ("Police asked about plate 7ABC123 in our lot.", "7ABC123", "vehicle"),
    ("VIN 1HGCM82633A004352 belongs to the patient.", "1HGCM82633A004352", "vehicle"),
    ("Pacemaker serial number PX889201 was recalled.", "PX889201", "device"),
    ("Her hearing aid MAC 3c:5a:b4:01:9f:22 showed up.", "3c:5a:b4:01:9f:22", "device"),
    (
        "She posted https://www.example.com/my-surgery with photos.",
        "https://www.example.com/my-surgery",
        "url",
    ),
    ("The login came from 203.0.113.45 at midnight.", "203.0.113.45", "ip"),
    (
        "Portal access from 2001:db8:85a3:0:0:8a2e:370:7334 again.",
        "2001:db8:85a3:0:0:8a2e:370:7334",
        "ip",
    ),
    ("Case number CS-4410923 is the complaint.", "CS-4410923", "other_id"),
]


@pytest.mark.parametrize(("sentence", "value", "kind"), EACH_KIND)
def test_each_kind_is_removed(sentence: str, value: str, kind: str) -> None:
    result = scrub(sentence)
    assert value not in result.text
    start = sentence.index(value)
    hits = [r for r in result.redactions if r.start < start + len(value) and start < r.end]
    assert [r.kind for r in hits] == [kind]
    assert residual(result.text) == []


def test_every_kind_is_exercised() -> None:
    assert {k for _, _, k in EACH_KIND} == set(KINDS)


# Words that carry legal meaning and are not identifiers of the individual.
LEGAL = [
    "The patient's daughter asked for her mother's records.",
    "Dr. will review it; our pharmacy texts refill reminders.",
    "A drug company pays $4.50 a text, our cost is 5 cents.",
    "Medicare, Medicaid and Blue Cross Blue Shield audit us under 45 CFR 164.508(a)(3).",
    "In 2024 we kept it 90 days, then 3 months more, for 2015-2020 claims.",
    "HIPAA, PHI, IRB, BAA, DUA and MRN are staff jargon; ages 90+ grouped as '90 or older'.",
    "Pfizer and the FDA asked about Lipitor and atorvastatin 40 mg for 1,200 patients.",
    "St. Luke's and Maple Grove Assisted Living share with Adult Protective Services.",
    "Safe Harbor: remove the 18 identifiers per 164.514(b)(2).",
    "The Joint Commission surveyors pull random charts next week.",
    "The patient will need a ride; may her son pick up the meds?",
    "From: Compliance Officer\nSubject: coding review by an outside firm.",
]


@pytest.mark.parametrize("sentence", LEGAL)
def test_legal_words_are_kept(sentence: str) -> None:
    result = scrub(sentence)
    assert result.redactions == ()
    assert result.text == sentence
    assert residual(sentence) == []


def _dev_scenarios() -> list[tuple[str, str]]:
    out = []
    for path in sorted(SCENARIOS.glob("dev*.jsonl")):
        out += [(s.id, s.description) for s in load_scenarios(path)]
    return out


def _verdict(text: str) -> tuple[str, bool, str]:
    v = decide(extract_facts(text))
    return v.category.value, v.authorization_required, v.status


# Words chosen to carry no legal meaning, so the plain description's verdict is the yardstick.
INJECTED = (
    "Re Maria Lopez (MRN 48213377, DOB 03/14/1961, 555-201-3344, 12 Oak Ave Apt 3, "
    "Dayton, OH 45402, maria.lopez@example.com, member ID XJH445566778): "
)


def test_verdict_survives_scrubbing_on_every_dev_scenario() -> None:
    scenarios = _dev_scenarios()
    assert len(scenarios) > 400
    changed = []
    for sid, text in scenarios:
        scrubbed = scrub(INJECTED + text)
        assert "Lopez" not in scrubbed.text and "48213377" not in scrubbed.text
        if _verdict(scrubbed.text) != _verdict(text):
            changed.append(sid)
    assert changed == []


def test_plain_scenarios_lose_almost_nothing() -> None:
    """The dev scenarios carry a few names of staff and patients, one date, one age over
    89 and two ticket numbers (reviewed: all real identifiers).  Nothing else goes."""
    scenarios = _dev_scenarios()
    touched = {sid: scrub(text) for sid, text in scenarios if scrub(text).redactions}
    assert len(touched) <= 40
    kinds = {r.kind for s in touched.values() for r in s.redactions}
    assert kinds <= {"name", "date", "age", "other_id"}
    for s in touched.values():
        assert residual(s.text) == []


def test_same_value_same_placeholder_and_offsets() -> None:
    text = "Maria Lopez called; Lopez wants Maria's chart. Call 555-201-3344 or 555-201-3344."
    result = scrub(text)
    assert result.text == (
        "[NAME_1] called; [NAME_1] wants [NAME_1]'s chart. Call [PHONE_1] or [PHONE_1]."
    )
    assert [text[r.start : r.end] for r in result.redactions] == [
        "Maria Lopez",
        "Lopez",
        "Maria",
        "555-201-3344",
        "555-201-3344",
    ]
    assert result.counts() == {"name": 3, "phone": 2}
    assert result.summary() == "removed 3 names, 2 phone numbers"
    dumped = json.dumps([r.to_json() for r in result.redactions])
    assert "Lopez" not in dumped and "3344" not in dumped


def test_summary_when_nothing_found() -> None:
    assert scrub("We sell the list to a broker.").summary() == "no identifiers found"


def test_only_identifiers_scrub_to_placeholders_only() -> None:
    result = scrub("Maria Lopez, 03/14/1961, 555-201-3344, maria.lopez@example.com")
    assert result.only_placeholders()
    assert not scrub("Maria Lopez wants her records.").only_placeholders()
    assert not scrub("").only_placeholders()


def test_residual_check_finds_planted_leftovers() -> None:
    clean = scrub("Patient Maria Lopez, DOB 03/14/1961, wants her chart.").text
    assert residual(clean) == []
    ensure_clean(clean)
    planted = {
        "ssn": " SSN 123-45-6789",
        "email": " cc jo@example.org",
        "url": " see www.example.com",
        "ip": " from 10.1.2.3",
        "date": " seen 4/2/1958",
        "name": " ask Mrs. Quimby",
        "other_id": " ref 44812093317",
        "phone": " call (555) 201-3344",
        "age": " she is 94 years old",
        "address": " at 12 Elm Street",
    }
    for kind, extra in planted.items():
        assert kind in residual(clean + extra), kind
    with pytest.raises(IdentifierLeakError) as exc:
        ensure_clean(clean + planted["ssn"] + planted["email"])
    message = exc.value.user_message()
    assert "Social Security numbers" in message and "e-mail addresses" in message
    assert "123-45-6789" not in message


def test_residual_is_independent_of_the_main_pass() -> None:
    """A 7+ digit number the main pass would never announce is still caught."""
    assert residual("reference 4481 2093 317 for her") == ["other_id"]
    assert residual("$2,000,000 for 164.508 in 2015-2020") == []


def test_scrub_json_scrubs_every_string_and_keeps_keys() -> None:
    record = {
        "description": "Maria Lopez (MRN 48213377) wants her chart.",
        "answers": ["her cell is 555-201-3344", {"note": "DOB 03/14/1961"}],
        "score": 0.93,
        "ok": True,
        "none": None,
        "pair": ("Dr. Okafor", 3),
    }
    out = scrub_json(record)
    dumped = json.dumps(out)
    for value in ("Lopez", "48213377", "3344", "1961", "Okafor"):
        assert value not in dumped
    assert set(out) == set(record)
    assert out["score"] == 0.93 and out["ok"] is True and out["none"] is None
    assert out["pair"] == ["Dr. [NAME_1]", 3]


def test_synthetic_generator_is_deterministic_and_rich() -> None:
    a = generate(5, seed=3, family="B")
    assert a == generate(5, seed=3, family="B")
    assert len(a) == 5 * len(KINDS)
    for s in a:
        for g in s.spans:
            assert s.text[g.start : g.end].strip() == s.text[g.start : g.end] != ""
    kinds = {g.kind for s in a for g in s.spans}
    assert kinds == set(KINDS)


def test_recall_on_held_out_family_does_not_regress() -> None:
    """Thresholds under figures measured on family B (never tuned on), seed 7, 30 per kind:
    kind-agnostic recall 0.997, fully removed 0.997, precision 1.0."""
    report = run(30, seed=7, family="B").to_json()
    assert report["kind_agnostic"]["recall"] >= 0.99
    assert report["kind_agnostic"]["fully_removed"] >= 0.99
    assert report["kind_agnostic"]["precision"] >= 0.99
    assert report["residual_false_alarms"] == 0
    for kind, score in report["per_kind"].items():
        assert score["gold"] >= 30, kind
        # A chart number without its cue word is removed as a bare number (other_id).
        assert score["recall"] >= (0.5 if kind == "mrn" else 0.9), kind


def test_evaluation_counts_a_miss() -> None:
    sentences = generate(2, seed=1, family="A")
    report = evaluate(sentences)
    assert report.overall().gold == sum(len(s.spans) for s in sentences)
    # Moving a gold span onto text no detector removes must show up as a miss.
    from evaluation.phi_synth import GoldSpan, SynthSentence

    fake = SynthSentence("we sell the list", (GoldSpan("name", 3, 7),), "name", "A")
    missed = evaluate([fake]).to_json()
    assert missed["kind_agnostic"]["recall"] == 0.0
    assert missed["per_kind"]["name"]["recall"] == 0.0


def _cli() -> typer.Typer:
    app = typer.Typer()
    cli_scrub.register(app)
    return app


def test_cli_scrub_json() -> None:
    result = CliRunner().invoke(_cli(), ["scrub", "Call Maria Lopez at 555-201-3344", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["text"] == "Call [NAME_1] at [PHONE_1]"
    assert data["counts"] == {"name": 1, "phone": 1}
    assert data["residual"] == []
    assert "Lopez" not in result.stdout


def test_cli_scrub_empty_is_a_user_error() -> None:
    result = CliRunner().invoke(_cli(), ["scrub", "   "])
    assert result.exit_code == 2


def test_cli_scrub_eval_json() -> None:
    result = CliRunner().invoke(_cli(), ["scrub-eval", "--n", "3", "--seed", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["per_kind"]) == set(KINDS)
    assert data["family"] == "B"


def test_no_placeholder_reads_as_a_lexicon_word() -> None:
    """A placeholder must set no fact: "[PHONE-1]" once read as "by phone" and turned
    face-to-face marketing into marketing that needs authorization."""
    from app.facts import expand_jargon, load_lexicon

    lexicon = load_lexicon()
    found = [r for sentence, _, _ in EACH_KIND for r in scrub(sentence).redactions]
    assert {r.kind for r in found} == set(KINDS)
    texts = {r.placeholder for r in found}
    for placeholder in texts:
        text = f"we {placeholder} here"
        assert expand_jargon(text, lexicon) == text
        for entry in lexicon.entries:
            for pattern in entry.positive + entry.negative:
                assert not pattern.search(text), (placeholder, entry.fact)


@pytest.mark.parametrize("unit", ["a.", "1-", "1 ", "ab:", "Mr. ", "Ab, OH ", "x@a.", "1,"])
def test_large_adversarial_input_stays_linear(unit: str) -> None:
    """100 KB of repetitive text once took minutes (nested and unanchored repeats); every
    pattern is now anchored at the start of its run.  Measured: under 3 s for each."""
    import time

    text = (unit * (100_000 // len(unit) + 1))[:100_000]
    started = time.perf_counter()
    scrub(text)
    residual(text)
    assert time.perf_counter() - started < 20


def test_scrubbing_twice_changes_nothing() -> None:
    """Stored records are scrubbed again by scrub_json: placeholders must survive as they are."""
    for sentence in generate(20, seed=4, family="B") + generate(20, seed=4, family="A"):
        once = scrub(sentence.text).text
        assert scrub(once).text == once
        assert PLACEHOLDER.search(once)


def test_cli_scrub_plain_prints_the_scrubbed_text_unwrapped() -> None:
    text = "Please send Jane Whitaker's records (MRN 00482913) to her new cardiologist " * 3
    result = CliRunner().invoke(_cli(), ["scrub", text.strip()])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == scrub(text.strip()).text
    assert "Whitaker" not in result.output and "00482913" not in result.output
