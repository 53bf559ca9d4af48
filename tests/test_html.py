"""Tests for the guidance readers (indexer.html)."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.html import GuidanceParseError, parse_guidance_html, parse_guidance_text
from indexer.sections import RawSection

FIXTURE = Path(__file__).parent / "fixtures" / "guidance-sample.html"
GUIDANCE = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "guidance"


def shared_file(name: str) -> str:
    path = GUIDANCE / name
    if not path.is_file():
        pytest.skip(f"shared corpus file {path} not available")
    return path.read_text(encoding="utf-8")


# --- parse_guidance_html ------------------------------------------------------


@pytest.fixture(scope="module")
def page() -> RawSection:
    return parse_guidance_html(FIXTURE.read_bytes(), "faq-481")


def test_html_heading_from_h1_not_title(page: RawSection) -> None:
    assert page.number == "faq-481"
    assert page.heading == (
        "May doctors and other providers share patient health information for treatment"
        " without patient authorization?"
    )
    assert page.heading not in page.paragraphs


def test_html_paragraphs_in_reading_order(page: RawSection) -> None:
    assert [p[:40] for p in page.paragraphs] == [
        "Question",
        "Does the HIPAA Privacy Rule permit docto",
        "Answer",
        "Yes. The Privacy Rule allows those docto",
        "Related regulation text",
        "(1) A covered entity may use or disclose",
        "(2) A covered entity may disclose protec",
        "Categories",
        "Privacy of Health Information/HIPAA",
        "Treatment/Payment/Health Care Operations",
        "Smaller Providers/Small Businesses",
        "Date Updated 11/03/2003",
    ]


def test_html_inline_markup_flattened_and_encoding_detected(page: RawSection) -> None:
    answer = page.paragraphs[3]
    assert "without the patient’s authorization. This includes" in answer
    assert answer.endswith("to refer the patient. See 45 CFR 164.506.")
    assert answer == " ".join(answer.split())


def test_html_chrome_left_out(page: RawSection) -> None:
    text = " ".join(page.paragraphs)
    for noise in (
        "Skip to main content",  # class usa-skipnav
        "About HHS",  # <header><nav>
        "HIPAA Home",  # class usa-breadcrumb
        "For Professionals",  # class usa-layout-docs__sidenav
        "All FAQs",  # id menu-block
        "Related FAQs",  # <aside>
        "Independence Avenue",  # <footer>
        "dataLayer",  # <script>
        "display: none",  # <style>
    ):
        assert noise not in text


def test_html_title_then_doc_id_fallback_for_heading() -> None:
    titled = "<html><head><title>FAQ 1514 | HHS.gov</title></head><body><p>Yes.</p></body></html>"
    assert parse_guidance_html(titled, "faq-1514").heading == "FAQ 1514 | HHS.gov"
    assert parse_guidance_html("<p>Yes.</p>", "faq-1514").heading == "faq-1514"


def test_html_article_preferred_when_no_main() -> None:
    html = "<body><div>Cookie banner</div><article><h1>T</h1><p>Kept.</p></article></body>"
    section = parse_guidance_html(html, "doc")
    assert (section.heading, section.paragraphs) == ("T", ("Kept.",))


def test_html_body_fallback_splits_loose_text_and_matches_whole_words() -> None:
    html = """<body class="menu-open"><div class="breadcrumb">Home</div>
    <div>Loose answer text<br>second line</div>
    <div class="unavailable-notice"><p>Kept: not a nav class.</p></div></body>"""
    assert parse_guidance_html(html, "doc").paragraphs == (
        "Loose answer text",
        "second line",
        "Kept: not a nav class.",
    )


@pytest.mark.parametrize(
    "data", [b"", "   ", "<html><body><nav><p>Menu</p></nav><footer>(c)</footer></body></html>"]
)
def test_html_without_content_raises(data: bytes | str) -> None:
    with pytest.raises(GuidanceParseError, match="doc: no text"):
        parse_guidance_html(data, "doc")


# --- parse_guidance_text ------------------------------------------------------

SAMPLE_MD = """# Sample FAQ page

- Title: Sample
- Where it came from: https://www.hhs.gov/example
---

## FAQ 1
**Question:** May a covered entity
share this?

**Answer:**

Yes.

---

Closing   note.
"""


def test_text_drops_header_and_splits_blocks() -> None:
    section = parse_guidance_text(SAMPLE_MD, "sample")
    assert section.number == "sample"
    assert section.heading == "Sample FAQ page"
    assert section.paragraphs == (
        "FAQ 1",
        "Question: May a covered entity share this?",
        "Answer:",
        "Yes.",
        "Closing note.",
    )


def test_text_without_header_keeps_everything_and_falls_back_to_doc_id() -> None:
    text = "Intro line.\n---\n- Note: this list item is content, not a header.\n"
    section = parse_guidance_text(text, "plain")
    assert section.heading == "plain"
    assert section.paragraphs == (
        "Intro line.",
        "- Note: this list item is content, not a header.",
    )


@pytest.mark.parametrize("text", ["", "\n\n", "# Title only\n\n- Title: x\n---\n"])
def test_text_without_content_raises(text: str) -> None:
    with pytest.raises(GuidanceParseError, match="doc: no text"):
        parse_guidance_text(text, "doc")


def test_real_tpo_faq() -> None:
    section = parse_guidance_text(shared_file("faq-tpo.md"), "faq-tpo")
    assert section.heading.startswith("HHS OCR HIPAA FAQ — Treatment, Payment, and Health Care")
    assert section.paragraphs[0] == "FAQ 481"
    assert section.paragraphs[2].startswith(
        "Short title: May doctors and other providers share patient health information"
    )
    assert section.paragraphs[-2] == "Answer:"
    assert section.paragraphs[-1].startswith("Yes. The Privacy Rule allows those doctors")
    assert section.paragraphs[-1].endswith("or to refer the patient. See 45 CFR 164.506.")
    text = " ".join(section.paragraphs)
    assert "Issuing office" not in text and "public domain" not in text
    assert "**" not in text and "#" not in text


def test_real_refill_reminder_faqs() -> None:
    section = parse_guidance_text(
        shared_file("faq-marketing-refill-reminders.md"), "faq-marketing-refill-reminders"
    )
    assert section.heading == (
        "HHS OCR HIPAA FAQs — Marketing: Refill Reminders (selected FAQs, full text)"
    )
    paragraphs = section.paragraphs
    faqs = [i for i, p in enumerate(paragraphs) if p.startswith("FAQ ")]
    assert [paragraphs[i] for i in faqs] == [
        "FAQ 1514", "FAQ 1515", "FAQ 1516", "FAQ 1518", "FAQ 1519", "FAQ 1521", "FAQ 1527",
    ]  # fmt: skip
    for i in faqs:  # every FAQ: heading, source, question, "Answer:", answer text
        assert paragraphs[i + 1].startswith("Source: https://")
        assert paragraphs[i + 2].startswith("Question: ")
        assert paragraphs[i + 3] == "Answer:"
    assert len(paragraphs) == 5 * len(faqs)
    assert paragraphs[4].startswith("The refill reminder exception to the definition of")
