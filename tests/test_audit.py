"""The audit trail: hash chain, tampering named, export, rulings, a damaged file, concurrency.

Every test takes the database URL from the ``audit_url`` fixture: SQLite here, a real
PostgreSQL server in tests/test_audit_postgres.py, which re-runs these same tests.
"""

from __future__ import annotations

import io
import itertools
import json
import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from app.audit import (
    GENESIS,
    AuditError,
    AuditLog,
    AuditRecord,
    chain_hash,
    read_csv_export,
    verify_rows,
)
from app.reviews import record_ruling
from app.scenarios import load_scenarios


@pytest.fixture
def audit_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'audit.sqlite'}"


def determination(
    description: str = "Our pharmacy texts refill reminders; the maker pays only the postage.",
    *,
    category: str = "treatment",
    authorization_required: bool = False,
    status: str = "confirmed",
    citations: tuple[str, ...] = ('45 CFR 164.501 "marketing" (2)(i)',),
) -> dict[str, Any]:
    """A ``Determination.to_json()`` with every key the pipeline hands the trail."""
    return {
        "category": category,
        "authorization_required": authorization_required,
        "status": status,
        "citations": [
            {
                "citation": c,
                "passage_id": c,
                "quote": "refill reminder",
                "text": "…",
                "kind": "regulation",
                "as_of": "2013-03-26",
                "url": "https://www.ecfr.gov/",
                "source": "rules",
            }
            for c in citations
        ],
        "rationale": "A refill reminder paid at cost is not marketing.",
        "obligations": [],
        "clarifying_questions": [],
        "operations_paragraph": None,
        "rules": {"category": category, "citations": list(citations), "trace": [], "facts": {}},
        "precedents": [],
        "llm": None,
        "agreement": {},
        "corpus_version": "v1",
        "timings_ms": {"total": 12.5},
        "dropped_citations": 0,
        "flags": [],
        "retrieved": list(citations),
        "scrubbed_description": description,
        "redactions": [],
        "retrieved_scores": [
            {"ref": c, "pid": i, "score": 0.5 - i / 10, "reason": "dense"}
            for i, c in enumerate(citations)
        ],
        "model_id": {"embedder": "fake-32", "llm": None},
        "rules_version": "rules-abc123",
        "prompt_hash": None,
        "notices": [],
    }


def filled(url: str, n: int = 5) -> AuditLog:
    log = AuditLog(url)
    for i in range(n):
        log.record(determination(f"case number {i + 1}"), user=f"user{i % 2}")
    return log


def sql(url: str, statement: str, **params: Any) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


# --- the chain -----------------------------------------------------------------------------


def test_records_chain_and_verify_ok(audit_url: str) -> None:
    log = filled(audit_url, 6)
    recs = log.records()
    assert [r.seq for r in recs] == [1, 2, 3, 4, 5, 6] == [r.id for r in recs]
    assert recs[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(recs):
        assert after.prev_hash == before.hash
    # The hash is the documented one, so an auditor can re-compute it without this code.
    assert recs[2].hash == chain_hash(recs[2].prev_hash, recs[2].fields())
    report = log.verify()
    assert report.ok and report.checked == 6 and report.problems == []
    assert report.head_seq == 6 and report.head_hash == recs[-1].hash


def test_a_record_keeps_what_the_issue_asks_for(audit_url: str) -> None:
    log = AuditLog(audit_url)
    rec = log.record(determination(status="needs_review"), user="pat", source="web")
    back = log.get(rec.id)
    assert back == rec
    assert rec.user == "pat" and rec.source == "web" and rec.kind == "determination"
    assert rec.time.endswith("+00:00")  # UTC
    assert rec.description.startswith("Our pharmacy texts refill reminders")
    assert (rec.category, rec.authorization_required, rec.status) == (
        "treatment",
        False,
        "needs_review",
    )
    assert rec.corpus_version == "v1" and rec.rules_version == "rules-abc123"
    assert rec.model_id == {"embedder": "fake-32", "llm": None}
    assert rec.retrieved == [{"ref": '45 CFR 164.501 "marketing" (2)(i)', "score": 0.5}]
    assert rec.payload["citations"][0]["citation"] == '45 CFR 164.501 "marketing" (2)(i)'
    # What the product made is kept as made: scrubbing would take an as-of date or a law's
    # URL for an identifier.
    assert rec.payload["citations"][0]["as_of"] == "2013-03-26"
    assert rec.payload["citations"][0]["url"] == "https://www.ecfr.gov/"


def test_identifiers_left_in_a_determination_are_scrubbed_before_storing(
    audit_url: str,
) -> None:
    log = AuditLog(audit_url)
    d = determination("A patient asks for a copy of her chart.")
    d["rationale"] = "Mail it to jane.doe@example.com, SSN 123-45-6789."
    d["rules"]["facts"] = {"to_individual": {"state": "yes", "evidence": ["Jane Doe, 4/2/1961"]}}
    rec = log.record(d, user="pat")
    stored = json.dumps(log.records()[0].payload)
    for identifier in ("jane.doe@example.com", "123-45-6789", "4/2/1961"):
        assert identifier not in stored
    assert rec.payload == log.records()[0].payload


def test_a_determination_without_its_scrubbed_description_is_refused(audit_url: str) -> None:
    log = AuditLog(audit_url)
    d = determination()
    del d["scrubbed_description"]
    with pytest.raises(ValueError, match="scrubbed_description"):
        log.record(d, user="pat")
    assert log.records() == []


# --- tampering, each named ------------------------------------------------------------------


def problems(log: AuditLog) -> list[tuple[str, int]]:
    report = log.verify()
    assert report.ok is (not report.problems)
    return [(p.kind, p.seq) for p in report.problems]


def test_an_edited_record_is_named(audit_url: str) -> None:
    log = filled(audit_url)
    sql(audit_url, "UPDATE audit_records SET category = 'marketing' WHERE seq = 3")
    assert problems(log) == [("edited", 3)]
    assert "seq 3" in log.verify().problems[0].detail


def test_an_edit_inside_the_stored_determination_is_named(audit_url: str) -> None:
    log = filled(audit_url)
    rec = log.get(2)
    assert rec is not None
    payload = dict(rec.payload, authorization_required=True)
    sql(
        audit_url,
        "UPDATE audit_records SET payload = :p WHERE seq = 2",
        p=json.dumps(payload),
    )
    assert problems(log) == [("edited", 2)]


def test_an_edited_and_rehashed_record_is_named_by_the_next_link(audit_url: str) -> None:
    log = filled(audit_url)
    rec = log.get(3)
    assert rec is not None
    forged = dict(rec.fields(), category="marketing")
    new_hash = chain_hash(rec.prev_hash, forged)
    sql(
        audit_url,
        "UPDATE audit_records SET category = 'marketing', hash = :h WHERE seq = 3",
        h=new_hash,
    )
    assert problems(log) == [("edited", 3)]


def test_a_deleted_middle_record_is_named(audit_url: str) -> None:
    log = filled(audit_url)
    sql(audit_url, "DELETE FROM audit_records WHERE seq = 3")
    assert problems(log) == [("deleted", 3)]
    assert log.verify().problems[0].record_id is None


def test_records_cut_off_the_end_are_named(audit_url: str) -> None:
    log = filled(audit_url)
    sql(audit_url, "DELETE FROM audit_records WHERE seq >= 4")
    assert problems(log) == [("deleted", 4)]
    assert "4–5" in log.verify().problems[0].detail


def test_a_forged_record_is_named(audit_url: str) -> None:
    log = filled(audit_url)
    last = log.records()[-1]
    # A forger who knows the algorithm and links the forged row correctly.
    fields = dict(last.fields(), id=6, seq=6, description="forged", category="treatment")
    digest = chain_hash(last.hash, fields)
    sql(
        audit_url,
        'INSERT INTO audit_records (id, seq, time, "user", source, kind, description, '
        "category, authorization_required, status, corpus_version, model_id, rules_version, "
        "prompt_hash, retrieved, payload, refers_to, prev_hash, hash) SELECT 6, 6, time, "
        "\"user\", source, kind, 'forged', category, authorization_required, status, "
        "corpus_version, model_id, rules_version, prompt_hash, retrieved, payload, refers_to, "
        ":prev, :hash FROM audit_records WHERE seq = 5",
        prev=last.hash,
        hash=digest,
    )
    assert problems(log) == [("inserted", 6)]


def test_a_record_slipped_into_the_middle_is_named(audit_url: str) -> None:
    log = filled(audit_url)
    # Ids and seqs are unique, so a forger must renumber the later rows to make room.
    sql(audit_url, "UPDATE audit_records SET seq = seq + 10, id = id + 10 WHERE seq >= 3")
    sql(audit_url, "UPDATE audit_records SET seq = seq - 9, id = id - 9 WHERE seq >= 13")
    sql(
        audit_url,
        'INSERT INTO audit_records (id, seq, time, "user", source, kind, description, '
        "category, authorization_required, status, corpus_version, model_id, rules_version, "
        "prompt_hash, retrieved, payload, refers_to, prev_hash, hash) SELECT 3, 3, time, "
        "\"user\", source, kind, 'slipped in', category, authorization_required, status, "
        "corpus_version, model_id, rules_version, prompt_hash, retrieved, payload, refers_to, "
        "hash, :h FROM audit_records WHERE seq = 2",
        h="f" * 64,
    )
    assert problems(log) == [
        ("inserted", 3),  # links to seq 2 as the genuine seq 3 does, and its hash does not hold
        ("reordered", 4),  # every renumbered original is named, not silently accepted
        ("reordered", 5),
        ("reordered", 6),
    ]


def test_two_swapped_records_are_named_reordered(audit_url: str) -> None:
    log = filled(audit_url)
    sql(audit_url, "UPDATE audit_records SET seq = 100, id = 100 WHERE seq = 3")
    sql(audit_url, "UPDATE audit_records SET seq = 3, id = 3 WHERE seq = 4")
    sql(audit_url, "UPDATE audit_records SET seq = 4, id = 4 WHERE seq = 100")
    assert problems(log) == [("reordered", 3), ("reordered", 4)]


def test_verify_of_an_empty_trail_is_ok(audit_url: str) -> None:
    report = AuditLog(audit_url).verify()
    assert report.ok and report.checked == 0


# --- filters and export ---------------------------------------------------------------------


def test_filters_select_records(audit_url: str) -> None:
    log = filled(audit_url, 4)
    log.record(
        determination("sell the list", category="sale_of_phi", status="needs_review"), user="ann"
    )
    assert [r.seq for r in log.records(user="ann")] == [5]
    assert [r.seq for r in log.records(category="sale_of_phi")] == [5]
    assert [r.seq for r in log.records(status="needs_review")] == [5]
    assert [r.seq for r in log.records(text="NUMBER 3")] == [3]
    assert [r.seq for r in log.records(limit=2)] == [4, 5]
    today = log.records()[0].time[:10]
    assert len(log.records(since=today, until=today)) == 5
    assert log.records(until="2000-01-01") == []
    with pytest.raises(AuditError, match="not a date"):
        log.records(since="last tuesday")


def test_json_export_round_trips_and_verifies_without_the_database(audit_url: str) -> None:
    log = filled(audit_url, 4)
    buf = io.StringIO()
    assert log.export("json", buf) == 4
    data = json.loads(buf.getvalue())
    back = [AuditRecord.from_json(r) for r in data["records"]]
    assert back == log.records()
    report = log.verify()
    assert verify_rows(data["records"], report.head_seq, report.head_hash) == []
    data["records"][1]["description"] = "changed in the export"
    assert [p.kind for p in verify_rows(data["records"], report.head_seq, report.head_hash)] == [
        "edited"
    ]


def test_csv_export_round_trips_with_filters(audit_url: str) -> None:
    log = filled(audit_url, 4)
    log.record(determination('commas, "quotes"\nand a newline', status="needs_review"), user="x")
    buf = io.StringIO()
    assert log.export("csv", buf) == 5
    assert read_csv_export(buf.getvalue()) == log.records()
    some = io.StringIO()
    assert log.export("csv", some, user="user1") == 2
    assert [r.seq for r in read_csv_export(some.getvalue())] == [2, 4]


# --- review queue and rulings ---------------------------------------------------------------


def test_review_queue_and_rulings_become_scenarios(audit_url: str, tmp_path: Path) -> None:
    log = AuditLog(audit_url)
    log.record(determination("fine"), user="a")
    doubt = log.record(
        determination("unclear one", category="marketing", status="needs_review"), user="a"
    )
    thin = log.record(determination("thin facts", status="insufficient_facts"), user="b")
    assert [r.id for r in log.review_queue()] == [doubt.id, thin.id]

    reviews = tmp_path / "reviews.jsonl"
    ruling = record_ruling(
        log,
        reviews,
        doubt.id,
        reviewer="rita",
        category="marketing",
        authorization_required=True,
        note="manufacturer pays more than cost",
    )
    assert ruling.kind == "ruling" and ruling.refers_to == doubt.id and ruling.user == "rita"
    assert ruling.payload["before"]["category"] == "marketing"
    assert [r.id for r in log.review_queue()] == [thin.id]

    (scenario,) = load_scenarios(reviews)
    assert scenario.id == f"R{doubt.id}" and scenario.description == "unclear one"
    assert scenario.expected.category.value == "marketing"
    assert scenario.expected.authorization_required is True
    assert scenario.expected.citations == ('45 CFR 164.501 "marketing" (2)(i)',)
    assert scenario.notes == "manufacturer pays more than cost"
    assert scenario.source == "reviewer ruling by rita"

    # A second ruling on the same case supersedes the first in the file (ids stay unique);
    # a changed category drops citations that decided the other question.
    record_ruling(
        log,
        reviews,
        doubt.id,
        reviewer="sam",
        category="treatment",
        authorization_required=False,
        note="",
    )
    record_ruling(
        log,
        reviews,
        thin.id,
        reviewer="sam",
        category="treatment",
        authorization_required=False,
        note="",
    )
    scenarios = {s.id: s for s in load_scenarios(reviews)}
    assert set(scenarios) == {f"R{doubt.id}", f"R{thin.id}"}
    assert scenarios[f"R{doubt.id}"].expected.citations == ()
    assert len(log.rulings(doubt.id)) == 2
    assert log.review_queue() == [] and log.verify().ok


def test_bad_rulings_are_refused_with_a_message(audit_url: str, tmp_path: Path) -> None:
    log = AuditLog(audit_url)
    rec = log.record(determination(status="needs_review"), user="a")
    reviews = tmp_path / "reviews.jsonl"
    with pytest.raises(AuditError, match="unknown category"):
        record_ruling(
            log,
            reviews,
            rec.id,
            reviewer="r",
            category="tpo",
            authorization_required=False,
            note="",
        )
    with pytest.raises(AuditError, match="no recorded determination with id 99"):
        record_ruling(
            log,
            reviews,
            99,
            reviewer="r",
            category="treatment",
            authorization_required=False,
            note="",
        )
    assert not reviews.exists() and len(log.records()) == 1


# --- a damaged database ---------------------------------------------------------------------


def test_a_garbage_file_is_reported_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    filled(f"sqlite:///{path}", 3).engine.dispose()
    size = path.stat().st_size
    garbage = bytes((i * 7919 + 13) % 256 for i in range(size))
    path.write_bytes(garbage)
    with pytest.raises(AuditError) as caught:
        AuditLog(f"sqlite:///{path}")
    message = caught.value.user_message()
    assert "damaged" in message and str(path) in message and "Nothing was changed" in message
    assert path.read_bytes() == garbage


def test_damaged_pages_are_reported_when_read_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    filled(f"sqlite:///{path}", 40).engine.dispose()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 2 * page
    data[page:] = bytes(len(data) - page)  # every page but the first zeroed
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(AuditError, match=r"damaged|cannot"):
        AuditLog(f"sqlite:///{path}").verify()
    assert path.read_bytes() == before


def test_a_bad_url_is_a_user_error() -> None:
    with pytest.raises(AuditError) as caught:
        AuditLog("nosuchdb://x")
    assert "TPO_AUDIT_URL" in caught.value.user_message()


# --- concurrency ----------------------------------------------------------------------------


def test_two_threads_appending_do_not_fork_the_chain(audit_url: str) -> None:
    AuditLog(audit_url)
    start = threading.Barrier(2)

    def append(who: str) -> None:
        log = AuditLog(audit_url)
        start.wait()
        for i in range(25):
            log.record(determination(f"{who} {i}"), user=who)

    threads = [threading.Thread(target=append, args=(w,)) for w in ("t1", "t2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = AuditLog(audit_url).verify()
    assert report.ok and report.checked == 50


def append_many(url: str, who: str, n: int, at: float) -> None:
    """Run in a separate process: wait for a common start time, then append ``n`` records."""
    log = AuditLog(url)
    time.sleep(max(0.0, at - time.time()))
    for i in range(n):
        log.record(determination(f"{who} {i}"), user=who)


@pytest.mark.slow
def test_two_processes_appending_50_each_keep_one_chain(audit_url: str) -> None:
    AuditLog(audit_url)
    ctx = multiprocessing.get_context("spawn")
    at = time.time() + 3
    procs = [ctx.Process(target=append_many, args=(audit_url, w, 50, at)) for w in ("p1", "p2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    log = AuditLog(audit_url)
    report = log.verify()
    assert report.ok and report.checked == 100
    users = [r.user for r in log.records()]
    assert users.count("p1") == users.count("p2") == 50


# --- the CLI --------------------------------------------------------------------------------


def cli(env: dict[str, str], *args: str) -> Any:
    import typer

    from app import cli_audit

    app = typer.Typer()
    cli_audit.register(app)
    return CliRunner().invoke(app, list(args), env=env)


def test_cli_verify_list_export_rule(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = {"TPO_DATA_DIR": str(data), "TPO_USER": "rita"}
    url = f"sqlite:///{data / 'audit.sqlite'}"
    log = filled(url, 3)
    log.record(determination("doubtful", status="needs_review"), user="a")

    ok = cli(env, "audit", "verify", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True

    listed = cli(env, "audit", "list", "--queue", "--json")
    assert [r["id"] for r in json.loads(listed.stdout)["records"]] == [4]

    ruled = cli(
        env,
        "audit",
        "rule",
        "4",
        "--category",
        "marketing",
        "--authorization",
        "--note",
        "paid",
        "--json",
    )
    assert ruled.exit_code == 0, ruled.output
    assert json.loads(ruled.stdout)["user"] == "rita"
    assert load_scenarios(data / "reviews.jsonl")[0].id == "R4"

    bad = cli(env, "audit", "rule", "4", "--category", "nope", "--no-authorization")
    assert bad.exit_code == 2 and "unknown category" in bad.output

    out_file = tmp_path / "trail.csv"
    exported = cli(env, "audit", "export", "--format", "csv", "--out", str(out_file))
    assert exported.exit_code == 0
    assert len(read_csv_export(out_file.read_text())) == 5

    sql(url, "DELETE FROM audit_records WHERE seq = 2")
    broken = cli(env, "audit", "verify")
    assert broken.exit_code == 1 and "deleted" in broken.output and "seq 2" in broken.output


def test_cli_on_a_damaged_database_says_what_to_do(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "audit.sqlite").write_bytes(b"this is not a database" * 100)
    result = cli({"TPO_DATA_DIR": str(data)}, "audit", "verify")
    assert result.exit_code == 2
    assert "damaged" in result.output and "Traceback" not in result.output
