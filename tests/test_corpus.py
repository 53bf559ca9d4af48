"""The real mirror, parsed: every section yields passages, every key definition is addressable."""

from __future__ import annotations

import re

import pytest

from indexer.chunk import cross_references
from indexer.corpus import CorpusLocation, CorpusSnapshot, read_corpus
from indexer.manifest import load_manifest
from indexer.models import Citation, SourceKind
from tests.conftest import CORPUS, SEEDS, needs_corpus

pytestmark = needs_corpus


@pytest.fixture(scope="module")
def snapshot() -> CorpusSnapshot:
    return read_corpus(load_manifest(), CorpusLocation(CORPUS, SEEDS))


def test_every_section_file_of_the_mirror_is_in_the_manifest_and_yields_passages(
    snapshot: CorpusSnapshot,
) -> None:
    manifest = load_manifest()
    listed = {s.mirror for s in manifest.source if s.root == "corpus"}
    on_disk = {p.name for p in CORPUS.glob("*.md") if p.name != "SOURCES.md"}
    assert on_disk <= listed
    by_source = {r.id: r.passages for r in snapshot.sources}
    assert all(n > 0 for n in by_source.values()), by_source


KEY_DEFINITIONS = [
    '45 CFR 164.501 "treatment"',
    '45 CFR 164.501 "payment" (1)(i)',
    '45 CFR 164.501 "payment" (2)(v)',
    *[f'45 CFR 164.501 "health care operations" ({n})' for n in range(1, 6)],
    '45 CFR 164.501 "health care operations" (6)(v)',
    '45 CFR 164.501 "marketing" (1)',
    '45 CFR 164.501 "marketing" (2)(i)',
    '45 CFR 164.501 "marketing" (2)(ii)(A)',
    '45 CFR 164.501 "marketing" (2)(ii)(B)',
    '45 CFR 164.501 "marketing" (2)(ii)(C)',
    '45 CFR 164.501 "research"',
    '45 CFR 164.501 "psychotherapy notes"',
    '45 CFR 160.103 "protected health information" (1)(i)',
    '45 CFR 160.103 "protected health information" (2)(i)',
    "45 CFR 164.508(a)(3)(i)(A)",
    "45 CFR 164.508(a)(4)(i)",
    "45 CFR 164.502(a)(5)(ii)(A)",
    "45 CFR 164.514(f)(1)(i)",
    "45 CFR 164.506(c)(4)(i)",
    "42 U.S.C. 17936(a)(2)(A)(i)",
]


@pytest.mark.parametrize("ref", KEY_DEFINITIONS)
def test_key_provisions_are_addressable_by_their_citation(
    snapshot: CorpusSnapshot, ref: str
) -> None:
    refs = {p.ref: p for p in snapshot.passages}
    assert ref in refs
    passage = refs[ref]
    assert passage.citation == Citation.parse(ref)
    assert passage.kind in (SourceKind.REGULATION, SourceKind.STATUTE)


def test_marketing_exception_passage_says_what_the_regulation_says(
    snapshot: CorpusSnapshot,
) -> None:
    refs = {p.ref: p for p in snapshot.passages}
    refill = refs['45 CFR 164.501 "marketing" (2)(i)']
    assert refill.text.startswith("To provide refill reminders")
    assert "Marketing does not include a communication made:" in refill.context
    hco4 = refs['45 CFR 164.501 "health care operations" (4)']
    assert "fraud and abuse detection" in hco4.text
    assert hco4.context[-1].startswith("Health care operations means any of the following")


def _normalized(text: str) -> str:
    return " ".join(text.replace("**", "").split())


def test_no_passage_is_empty_or_cut_mid_word(snapshot: CorpusSnapshot) -> None:
    manifest = {s.id: s for s in load_manifest().source}
    sources = {
        sid: _normalized(((SEEDS if s.root == "seeds" else CORPUS) / s.mirror).read_text())
        for sid, s in manifest.items()
    }
    for p in snapshot.passages:
        assert p.text.strip(), p.ref
        # Each piece of the passage is a run of the source text starting and ending at a
        # word boundary ("In general — A communication" joins a U.S. Code heading).
        for piece in p.text.split(" — "):
            source = sources[p.source_id]
            at = source.find(piece)
            assert at >= 0, (p.ref, piece[:80])
            before = source[at - 1] if at > 0 else " "
            after = source[at + len(piece)] if at + len(piece) < len(source) else " "
            assert not (before.isalnum() and piece[0].isalnum()), (p.ref, "starts mid-word")
            assert not (after.isalnum() and piece[-1].isalnum()), (p.ref, "ends mid-word")


def test_law_passages_are_unique_and_cited_secondary_ones_are_not(
    snapshot: CorpusSnapshot,
) -> None:
    refs = [p.ref for p in snapshot.passages]
    assert len(refs) == len(set(refs))
    secondary = [p for p in snapshot.passages if p.kind is SourceKind.SECONDARY]
    assert secondary and all(p.citation is None and not p.is_law for p in secondary)
    guidance = [p for p in snapshot.passages if p.kind is SourceKind.GUIDANCE]
    assert guidance and all(p.citation is None for p in guidance)
    assert any(p.url.startswith("https://www.hhs.gov/guidance/document/faq-1514") for p in guidance)


def test_cross_references_are_extracted_into_metadata(snapshot: CorpusSnapshot) -> None:
    refs = {p.ref: p for p in snapshot.passages}
    xrefs = refs["45 CFR 164.506(a)"].cross_refs
    for target in (
        "45 CFR 164.508(a)(2)",
        "45 CFR 164.508(a)(3)",
        "45 CFR 164.508(a)(4)",
        "45 CFR 164.502(a)(5)(i)",
        "45 CFR 164.506(c)",
    ):
        assert target in xrefs
    assert "45 CFR 164.514(f)(1)" in refs["45 CFR 164.508(a)(3)(i)(A)"].cross_refs or any(
        "164.501" in x for x in refs["45 CFR 164.508(a)(3)(ii)"].cross_refs
    )


def test_a_reference_is_only_a_section_number_after_a_section_sign() -> None:
    assert cross_references("In 2013, 164 entities paid $1.50 each.") == ()
    assert cross_references("under §§ 164.502(e) and 164.504(e)") == (
        "45 CFR 164.502(e)",
        "45 CFR 164.504(e)",
    )


def test_as_of_dates_and_hashes_are_recorded_per_source(snapshot: CorpusSnapshot) -> None:
    records = {r.id: r for r in snapshot.sources}
    assert records["45-cfr-164.501"].as_of == "2013-03-26"
    assert re.fullmatch(r"[0-9a-f]{16}", records["45-cfr-164.501"].hash)
    assert {p.as_of for p in snapshot.passages if p.source_id == "45-cfr-164.501"} == {"2013-03-26"}
