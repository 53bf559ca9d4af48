"""Documents: every reader, its errors, evidence offsets, and what an authorization contains."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from app.doc_classify import (
    AUTHORIZATION_FILE,
    PipelineText,
    authorization_contents,
    classify_document,
    load_authorization,
)
from app.documents import (
    CorruptDocument,
    Document,
    EmptyDocument,
    EncryptedDocument,
    ScannedDocument,
    UndecodableText,
    UnsupportedDocument,
    read_document,
    read_path,
)
from app.models import Category
from app.pipeline import Pipeline
from app.services import Services
from indexer.errors import TpoError
from indexer.models import Citation
from tests.conftest import FIXTURES, needs_corpus

DOCS = FIXTURES / "documents"
BATCH = DOCS / "batch"
BROKEN = DOCS / "broken"
LABELS = [json.loads(x) for x in (DOCS / "labels.jsonl").read_text().splitlines()]


# -- readers ------------------------------------------------------------------------------------
def test_plain_text_keeps_its_paragraphs() -> None:
    doc = read_path(BATCH / "refill-reminder-3.txt")
    assert doc.kind == "text" and doc.meta["encoding"] == "utf-8"
    assert "due for a refill" in doc.text and "\n\n" in doc.text


def test_markdown_loses_its_markup_not_its_words() -> None:
    doc = read_document(
        "note.md",
        b"# New clinic\n\nWe open a **sleep clinic** in [May](https://x.example).\n\n> Call us.\n",
    )
    assert doc.kind == "markdown"
    assert doc.text == "New clinic\n\nWe open a sleep clinic in May.\n\nCall us."


def test_html_keeps_visible_text_in_blocks_and_drops_scripts_and_navigation() -> None:
    doc = read_path(BATCH / "public-health-report-1.html")
    assert doc.kind == "html" and doc.meta["title"] == "Reportable disease: tuberculosis"
    assert "page loaded" not in doc.text and "Contact" not in doc.text
    assert "Confidential morbidity report\n\nTo the County Department" in doc.text


def test_a_multipart_email_reads_headers_the_plain_body_and_attachment_names() -> None:
    doc = read_path(BATCH / "research-request-1.eml")
    assert doc.kind == "email"
    assert doc.meta["from"] == "epark@stateu.example.edu"
    assert doc.meta["subject"] == "Research data request: sepsis outcomes"
    assert doc.meta["attachments"] == "IRB-waiver-approval.pdf"
    assert "Date" in doc.text and "waiver of authorization" in doc.text
    assert "<p>" not in doc.text  # the plain part was preferred to the HTML one
    assert doc.text.endswith("Attachments: IRB-waiver-approval.pdf")
    assert "Attachment placeholder" not in doc.text  # listed, not parsed


def test_an_html_only_email_falls_back_to_its_html_body_as_text() -> None:
    doc = read_path(BATCH / "public-health-report-2.eml")
    assert "measles" in doc.text and "<p>" not in doc.text


def test_a_two_column_pdf_is_read_column_by_column() -> None:
    doc = read_path(BATCH / "newsletter-own-service-1.pdf")
    assert doc.kind == "pdf" and doc.meta["pages"] == "1"
    text = " ".join(doc.text.split())
    # Each sentence is whole: read straight across, the columns' lines would interleave.
    for sentence in (
        "Appointments can be made through the patient portal or by phone.",
        "Also in this issue: parking changes at the main entrance, new visiting hours, and "
        "our flu-shot clinic schedule.",
        "No outside company sponsored it or paid us to send it.",
    ):
        assert sentence in text
    assert text.index("proud to announce") < text.index("Also in this issue")
    assert doc.text.startswith("Lakeview Health News")  # the headline across both columns
    assert doc.text.rstrip().endswith("Call 1-800-555-0100.")  # the footer across both


def test_a_one_column_pdf_keeps_its_lines_in_order() -> None:
    doc = read_path(BATCH / "refill-reminder-4.pdf")
    assert "you are due for a refill of the levothyroxine" in " ".join(doc.text.split()).lower()


def test_docx_reads_paragraphs_tables_and_the_letterhead() -> None:
    doc = read_path(BATCH / "vendor-statement-of-work-1.docx")
    assert doc.kind == "docx" and doc.meta["title"] == "Statement of Work"
    assert doc.text.startswith("STATEMENT OF WORK")  # the header
    assert "Business Associate Agreement" in doc.text
    assert "Deliverable | Due" in doc.text  # a table row


@pytest.mark.parametrize(
    ("name", "error", "words"),
    [
        ("encrypted.pdf", EncryptedDocument, "password"),
        ("scanned.pdf", ScannedDocument, "no text to read: it looks like a scanned image"),
        ("truncated.pdf", CorruptDocument, "not a readable PDF"),
        ("not-really.pdf", CorruptDocument, "the name says PDF but the content is plain text"),
        ("corrupt.docx", CorruptDocument, "damaged"),
        ("spreadsheet.xlsx", UnsupportedDocument, "ZIP"),
        ("empty.txt", EmptyDocument, "empty"),
        ("binary.txt", UndecodableText, "binary"),
        ("not-utf8.txt", UndecodableText, "neither UTF-8 nor Windows-1252"),
    ],
)
def test_what_cannot_be_read_says_why_and_what_to_do(
    name: str, error: type[TpoError], words: str
) -> None:
    with pytest.raises(error) as info:
        read_path(BROKEN / name)
    assert words in str(info.value)
    assert info.value.hint and name in str(info.value)


def test_the_scanned_pdf_hint_says_run_ocr() -> None:
    with pytest.raises(ScannedDocument) as info:
        read_path(BROKEN / "scanned.pdf")
    assert "run OCR first" in info.value.user_message()


def test_unknown_types_are_refused_by_name_and_by_content() -> None:
    with pytest.raises(UnsupportedDocument, match=r"\.xyz"):
        read_document("notes.xyz", b"plain words")
    with pytest.raises(UnsupportedDocument, match="image"):
        read_document("scan.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(UnsupportedDocument, match=r"\.doc"):
        read_document("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40)


def test_content_wins_over_a_wrong_text_extension_with_a_notice() -> None:
    data = (BATCH / "refill-reminder-4.pdf").read_bytes()
    doc = read_document("letter.txt", data)
    assert doc.kind == "pdf" and "content is PDF" in doc.meta["notice"]


def test_windows_1252_is_read_with_a_notice_and_utf16_by_its_mark() -> None:
    doc = read_document("w.txt", "The pharmacy\u2019s caf\u00e9 \u2014 list".encode("cp1252"))
    assert doc.text == "The pharmacy\u2019s caf\u00e9 \u2014 list"
    assert doc.meta["encoding"] == "cp1252" and "Windows-1252" in doc.meta["notice"]
    assert read_document("u.txt", "r\u00e9sum\u00e9".encode("utf-16")).text == "r\u00e9sum\u00e9"
    assert read_document("b.txt", b"\xef\xbb\xbfhello").text == "hello"


def test_an_email_without_headers_is_not_an_email() -> None:
    with pytest.raises(CorruptDocument, match="not an e-mail"):
        read_document("x.eml", b"just some words\nand more\n")


def test_an_email_is_recognised_without_its_extension() -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@x.example", "b@y.example", "Hello"
    msg.set_content("Body words.")
    assert read_document("message", bytes(msg)).kind == "email"


# -- evidence ----------------------------------------------------------------------------------
def test_the_email_view_reads_as_an_activity_and_maps_back_exactly() -> None:
    doc = read_path(BATCH / "research-request-1.eml")
    view = PipelineText.build(doc, "the hospital is paid nothing")
    assert view.text.startswith("From epark@stateu.example.edu to privacy@")
    assert ", subject Research data request: sepsis outcomes: Request for access" in view.text
    assert view.text.endswith("the hospital is paid nothing")
    for seg in view.segments:
        if seg.origin is not None and not seg.in_context:
            assert (
                view.text[seg.start : seg.end]
                == doc.text[seg.origin : seg.origin + seg.end - seg.start]
            )
    [(s, e, ctx)] = view.locate("requests the records of Maple Street Pharmacy patients")
    assert not ctx and doc.text[s:e] == "requests the records of Maple Street Pharmacy patients"
    [(s, e, ctx)] = view.locate("the hospital is paid nothing")
    assert ctx and (s, e) == (0, len("the hospital is paid nothing"))


def test_located_words_survive_line_breaks_and_jargon_expansion() -> None:
    doc = Document("d.txt", "text", "We sign a BAA with\nthe vendor today.", {})
    view = PipelineText.build(doc, None)
    [(s, e, _)] = view.locate("We sign a BAA business associate agreement with the vendor today.")
    assert doc.text[s:e] == "We sign a BAA with\nthe vendor today."


@pytest.fixture
def pipeline(fake_services: Services) -> Pipeline:
    manifest, snapshot = fake_services.read_corpus()
    fake_services.indexer().build(snapshot, manifest)
    fake_services.settings.precedent_files = []
    return fake_services.pipeline("none")


@needs_corpus
@pytest.mark.parametrize(
    "name", ["manufacturer-flyer-1.pdf", "research-request-1.eml", "data-license-agreement-1.docx"]
)
def test_every_evidence_offset_points_at_the_words_that_set_the_fact(
    pipeline: Pipeline, name: str
) -> None:
    doc = read_path(BATCH / name)
    result = classify_document(pipeline, doc, "No one else is paid.")
    assert result.evidence
    facts = result.determination.rules.facts.known()
    located = {e.fact for e in result.evidence}
    assert located == set(facts)  # every fact's words were found again
    for e in result.evidence:
        source = result.context if e.in_context else doc.text
        assert source is not None and source[e.start : e.end] == e.text
        clauses = [" ".join(c.split()) for c in facts[e.fact].evidence]
        said = " ".join(e.text.split())
        assert any(said.lower() in c.lower() or c.lower() in said.lower() for c in clauses) or (
            doc.kind == "email"
        )
    as_json = json.loads(json.dumps(result.to_json()))
    assert as_json["evidence"][0]["start"] == result.evidence[0].start
    assert as_json["document"]["text"] == doc.text


@needs_corpus
def test_the_context_line_can_set_a_fact_and_is_marked_as_such(pipeline: Pipeline) -> None:
    doc = read_path(BATCH / "manufacturer-flyer-2.html")
    context = next(x["context"] for x in LABELS if x["file"] == doc.name)
    without = classify_document(pipeline, doc)
    with_context = classify_document(pipeline, doc, context)
    assert with_context.determination.rules.facts.remuneration_cost_only.no
    [paid] = [e for e in with_context.evidence if e.fact == "remuneration_cost_only"]
    assert paid.in_context and paid.text == context and (paid.start, paid.end) == (0, len(context))
    assert with_context.determination.category == Category.MARKETING
    assert with_context.determination.authorization_required
    assert not any(e.in_context for e in without.evidence)


@needs_corpus
def test_a_marketing_answer_lists_what_the_authorization_must_contain(pipeline: Pipeline) -> None:
    result = classify_document(pipeline, read_path(BATCH / "manufacturer-flyer-1.pdf"))
    assert result.determination.authorization_required
    cites = [r.citation for r in result.authorization_contents]
    assert "45 CFR 164.508(a)(3)(ii)" in cites and "45 CFR 164.508(c)(1)(i)" in cites
    assert "45 CFR 164.508(a)(4)(ii)" not in cites


# -- what an authorization must contain ----------------------------------------------------------
def test_authorization_contents_follow_the_category_and_need() -> None:
    assert authorization_contents(Category.MARKETING, False) == ()
    core = {f"45 CFR 164.508(c)(1)({n})" for n in ("i", "ii", "iii", "iv", "v", "vi")}
    statements = {f"45 CFR 164.508(c)(2)({n})" for n in ("i", "ii", "iii")}
    for category in Category:
        cites = {r.citation for r in authorization_contents(category, True)}
        assert core | statements | {"45 CFR 164.508(c)(3)", "45 CFR 164.508(c)(4)"} <= cites
        assert ("45 CFR 164.508(a)(3)(ii)" in cites) == (category == Category.MARKETING)
        assert ("45 CFR 164.508(a)(4)(ii)" in cites) == (category == Category.SALE_OF_PHI)


def test_every_authorization_requirement_cites_a_well_formed_paragraph() -> None:
    items = load_authorization(AUTHORIZATION_FILE)
    assert len(items) >= 14
    for requirement, _applies in items:
        Citation.parse(requirement.citation)
        assert len(requirement.text) > 20


@needs_corpus
def test_every_authorization_citation_names_a_passage_of_the_real_corpus(tmp_path: Path) -> None:
    from tests.conftest import missing_from_real_corpus

    cites = [r.citation for r, _applies in load_authorization(AUTHORIZATION_FILE)]
    assert not missing_from_real_corpus(cites, tmp_path)


def test_labels_follow_the_scenario_shape_and_name_existing_files() -> None:
    from app.scenarios import Expected

    assert len(LABELS) >= 50
    for line in LABELS:
        assert (BATCH / line["file"]).is_file(), line["file"]
        Expected(**line["expected"])
    formats: dict[str, Any] = {line["format"] for line in LABELS}  # type: ignore[assignment]
    assert {"txt", "md", "html", "eml", "pdf", "pdf-two-column", "docx"} <= formats
