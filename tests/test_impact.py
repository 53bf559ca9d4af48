"""Change impact: which recorded answers and labeled scenarios a corpus change touches,
and which of them moved when classified again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.audit import AuditLog
from app.impact import affected_items, answer_of, run_impact, touched, with_after, with_before
from app.scenarios import Scenario, load_scenarios
from app.services import Services
from indexer.changes import Change
from indexer.models import Citation
from tests.conftest import needs_corpus
from tests.test_audit import determination

CHANGED = [
    Change("45 CFR 164.506(c)(4)", "changed", "old text", "new text"),
    Change("45 CFR 164.508(a)(3)(i)", "removed", "old text", None),
    Change("45 CFR 164.512(b)", "added", None, "new text"),  # touches nothing decided
    Change("hhs-faq-refill-reminders ¶ 2", "changed", "a", "b"),
]


def scenario(sid: str, description: str, category: str, *citations: str) -> Scenario:
    return Scenario.model_validate(
        {
            "id": sid,
            "description": description,
            "expected": {
                "category": category,
                "authorization_required": category == "marketing",
                "citations": list(citations),
            },
        }
    )


def test_touched_is_the_prefix_matching_of_labels_md() -> None:
    cites = [
        "45 CFR 164.506(c)",  # the changed paragraph falls under it
        "45 CFR 164.506(c)(4)(i)",  # it falls under the changed paragraph
        "45 CFR 164.506",  # the whole section
        "45 CFR 164.506(c)(5)",  # a sibling: untouched
        "45 CFR 164.506(b)",
        "45 CFR 164.508(a)(3)",  # over the removed (a)(3)(i)
        "45 CFR 164.508(a)(4)",
        "45 CFR 164.512(b)(1)",  # only an added passage there
        "hhs-faq-refill-reminders ¶ 2",  # guidance: by exact reference
        "hhs-faq-refill-reminders ¶ 3",
    ]
    assert touched(CHANGED, cites) == [
        "45 CFR 164.506(c)",
        "45 CFR 164.506(c)(4)(i)",
        "45 CFR 164.506",
        "45 CFR 164.508(a)(3)",
        "hhs-faq-refill-reminders ¶ 2",
    ]
    assert touched([CHANGED[2]], cites) == []


def test_affected_items_finds_determinations_and_scenarios(tmp_path: Path) -> None:
    log = AuditLog(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    hit = log.record(
        determination(
            "share with the other plan for its quality review",
            category="health_care_operations",
            citations=("45 CFR 164.506(c)(4)(i)",),
        ),
        user="a",
    )
    log.record(determination("a refill reminder at cost"), user="a")  # cites 164.501 only
    log.rule(
        hit.id,
        reviewer="rita",
        category="health_care_operations",
        authorization_required=False,
        note="ok",
    )
    scenarios = [
        scenario(
            "S1", "plan to plan for quality review", "health_care_operations", "45 CFR 164.506(c)"
        ),
        scenario("S2", "maker pays for a mailing", "marketing", "45 CFR 164.508(a)(3)"),
        scenario("S3", "a referral", "treatment", "45 CFR 164.506(c)(2)"),
        scenario("S4", "no citations at all", "treatment"),
    ]
    items = affected_items(CHANGED, log, scenarios)
    assert [(a.kind, a.id) for a in items] == [
        ("determination", str(hit.id)),
        ("scenario", "S1"),
        ("scenario", "S2"),
    ]
    det = items[0]
    assert det.citations_touched == ["45 CFR 164.506(c)(4)(i)"]
    assert det.before["category"] == "health_care_operations" and det.basis == "recorded"
    assert det.before["ruling"]["reviewer"] == "rita"
    assert items[1].basis == "expected" and items[1].after is None and not items[1].moved
    # Only added passages: nothing recorded can be touched.
    assert affected_items([CHANGED[2]], log, scenarios) == []


def fake_pipeline(version: str) -> Any:
    """A deterministic stand-in for ``Pipeline.classify(...).to_json()``: after the change,
    disclosures to another plan for its operations need authorization."""

    def classify(description: str) -> dict[str, Any]:
        if "quality" in description:
            category = "health_care_operations"
            auth = version == "new"
            cites = ["45 CFR 164.506(c)(4)(i)"]
        elif "maker pays" in description:
            category, auth, cites = "marketing", True, ["45 CFR 164.508(a)(3)"]
        else:
            category, auth, cites = "treatment", False, ["45 CFR 164.506(c)(2)"]
        return {
            "category": category,
            "authorization_required": auth,
            "citations": [{"citation": c, "passage_id": c} for c in cites],
        }

    return classify


def test_run_impact_shows_which_answers_moved(tmp_path: Path) -> None:
    log = AuditLog(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    log.record(
        determination(
            "other plan's quality review",
            category="health_care_operations",
            citations=("45 CFR 164.506(c)(4)(i)",),
        ),
        user="a",
    )
    scenarios = [
        scenario(
            "S1", "plan to plan for quality review", "health_care_operations", "45 CFR 164.506(c)"
        ),
        scenario("S2", "maker pays for a mailing", "marketing", "45 CFR 164.508(a)(3)"),
    ]
    report = run_impact(CHANGED, log, scenarios, fake_pipeline("old"), fake_pipeline("new"))
    moved = {a.id: a for a in report.moved}
    assert set(moved) == {"1", "S1"}
    assert moved["S1"].why_moved == ["authorization False → True"]
    assert moved["S1"].basis == "classified"
    assert moved["S1"].expected is not None
    assert not next(a for a in report.affected if a.id == "S2").moved
    data = report.to_json()
    assert data["changed_citations"] == [
        "45 CFR 164.506(c)(4)",
        "45 CFR 164.508(a)(3)(i)",
        "hhs-faq-refill-reminders ¶ 2",
    ]
    assert data["counts"] == {"determinations": 1, "scenarios": 2, "rerun": 3, "moved": 2}

    # Against expected labels (no classification on the old version), a broad expected
    # citation is not "moved" by the answer citing a paragraph under it.
    report = run_impact(CHANGED, None, scenarios[1:], None, fake_pipeline("new"))
    assert [a.moved for a in report.affected] == [False]


def test_cited_provisions_that_change_count_as_moved() -> None:
    items = affected_items(
        CHANGED,
        None,
        [scenario("S2", "maker pays for a mailing", "marketing", "45 CFR 164.508(a)(3)")],
    )
    before = with_before(items, fake_pipeline("old"))

    def cites_elsewhere(description: str) -> dict[str, Any]:
        d = fake_pipeline("new")(description)
        d["citations"] = [{"citation": "45 CFR 164.508(a)(4)"}]
        return d

    (a,) = with_after(CHANGED, before, cites_elsewhere).affected
    assert a.moved and a.why_moved == ["cited provisions changed"]


# --- a real small index ---------------------------------------------------------------------


def _with_mirror(svc: Services, mirror: Path) -> Services:
    settings = svc.settings.model_copy(update={"corpus_mirror": mirror})
    return Services(settings, svc.embedder_override, svc.model_id, svc.client_override)


def _cites_506c(s: Scenario) -> bool:
    target = Citation.parse("45 CFR 164.506(c)(4)(ii)")
    return any(Citation.parse(c).matches(target) for c in s.expected.citations)


@needs_corpus
def test_editing_164_506_c_4_finds_the_scenarios_that_cite_it(
    fake_services: Services, mirror_copy: Path
) -> None:
    manifest, snapshot = fake_services.read_corpus()
    fake_services.indexer().build(snapshot, manifest)
    target = mirror_copy / "164.506.md"
    text = target.read_text(encoding="utf-8")
    old = "for the purpose of health care fraud and abuse detection or compliance"
    assert old in text.lower()
    start = text.lower().index(old)
    target.write_text(
        text[:start]
        + "For the purpose of health care fraud detection only"
        + text[start + len(old) :],
        encoding="utf-8",
    )
    svc = _with_mirror(fake_services, mirror_copy)
    manifest, snapshot = svc.read_corpus()
    indexer = svc.indexer()
    version = svc.db.current()
    collections = svc.store.collections()

    changes = indexer.plan(snapshot, manifest)
    assert [(c.citation, c.change) for c in changes] == [("45 CFR 164.506(c)(4)(ii)", "changed")]
    assert svc.db.current() == version and svc.store.collections() == collections  # nothing written

    scenarios = [s for f in svc.settings.precedent_files for s in load_scenarios(f)]
    audit = AuditLog(f"sqlite:///{svc.settings.data_dir / 'audit.sqlite'}")
    pipeline = svc.pipeline("none")
    asked = scenarios[0].description
    recorded = audit.record(
        {**pipeline.classify(asked).to_json(), "scrubbed_description": asked}, user="t"
    )
    items = affected_items(changes, audit, scenarios)
    expected_ids = {s.id for s in scenarios if _cites_506c(s)}
    assert expected_ids and {a.id for a in items if a.kind == "scenario"} == expected_ids
    citing_506c = {s.id for s in scenarios if "45 CFR 164.506(c)" in s.expected.citations}
    assert citing_506c and citing_506c <= expected_ids
    assert all(any(c.startswith("45 CFR 164.506") for c in a.citations_touched) for a in items)
    recorded_hit = any(a.kind == "determination" for a in items)
    touched_cites = touched(
        changes,
        answer_of(recorded.payload)["citations"] + list(recorded.payload["rules"]["citations"]),
    )
    assert recorded_hit == bool(touched_cites)

    # The real flow on a few of them: classify on the old version, update, classify again.
    few = [a for a in items if a.kind == "scenario"][:3]
    classify = lambda d: pipeline.classify(d).to_json()  # noqa: E731
    few = with_before(few, classify)
    assert indexer.update(snapshot, manifest).created
    report = with_after(
        changes,
        few,
        lambda d: _with_mirror(svc, mirror_copy).pipeline("none").classify(d).to_json(),
    )
    assert len(report.affected) == len(few)
    for a in report.affected:
        assert a.after is not None and a.basis == "classified"
        assert a.moved == bool(a.why_moved)
