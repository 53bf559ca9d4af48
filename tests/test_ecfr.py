"""Tests for the eCFR XML reader (indexer.ecfr)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from indexer.ecfr import EcfrParseError, parse_ecfr_xml
from indexer.sections import RawSection

FIXTURE = Path(__file__).parent / "fixtures" / "ecfr-part164-sample.xml"


@pytest.fixture(scope="module")
def sections() -> list[RawSection]:
    return parse_ecfr_xml(FIXTURE.read_bytes())


def by_number(sections: list[RawSection], number: str) -> RawSection:
    return next(s for s in sections if s.number == number)


def test_sections_in_document_order_across_subparts(sections: list[RawSection]) -> None:
    assert [s.number for s in sections] == ["164.102", "164.501", "164.506"]


def test_heading_drops_section_sign_and_number(sections: list[RawSection]) -> None:
    assert [s.heading for s in sections] == [
        "Statutory basis.",
        "Definitions.",
        "Uses and disclosures to carry out treatment, payment, or health care operations.",
    ]


def test_definition_paragraphs_keep_terms_and_markers(sections: list[RawSection]) -> None:
    paragraphs = by_number(sections, "164.501").paragraphs
    starts = [p.split(" ", 1)[0] for p in paragraphs]
    assert starts == [
        "As",
        "Marketing:",
        "(2)",
        "(i)",
        "(ii)",
        "(A)",
        "(B)",
        "(C)",
        "(3)",
        "Research",
    ]
    assert paragraphs[1].startswith(
        "Marketing: (1) Except as provided in paragraph (2) of this definition, marketing means"
    )
    assert paragraphs[8].startswith("(3) Financial remuneration means direct or indirect payment")
    assert paragraphs[-1] == (
        "Research means a systematic investigation, including research development, testing,"
        " and evaluation, designed to develop or contribute to generalizable knowledge."
    )


def test_e_t03_italics_flattened_inline(sections: list[RawSection]) -> None:
    first, second = by_number(sections, "164.506").paragraphs[:2]
    assert first.startswith("(a) Standard: Permitted uses and disclosures. Except with respect")
    assert second.startswith(
        "(c) Implementation specifications: Treatment, payment, or health care operations."
        " (1) A covered entity may use"
    )


def test_whitespace_normalized(sections: list[RawSection]) -> None:
    for section in sections:
        for text in (section.heading, *section.paragraphs):
            assert text == " ".join(text.split())


def test_source_notes_and_authority_excluded(sections: list[RawSection]) -> None:
    text = " ".join(p for s in sections for p in s.paragraphs)
    assert re.search(r"\d+ FR \d+", text) is None  # no "[78 FR 5692, ...]" source notes
    assert "Authority" not in text and "U.S.C." not in text
    assert "unless otherwise noted" not in text
    assert by_number(sections, "164.102").paragraphs[-1].endswith("Public Law 111-5.")


def test_wanted_filters_and_accepts_section_sign() -> None:
    data = FIXTURE.read_text(encoding="utf-8")
    assert [s.number for s in parse_ecfr_xml(data, wanted={"164.506", "§ 164.501"})] == [
        "164.501",
        "164.506",
    ]
    assert parse_ecfr_xml(data, wanted=["160.103"]) == []


def test_part_response_rooted_at_div5_with_bulk_style_numbers() -> None:
    # ?part= responses have a DIV5 root; GPO bulk files write N="§ 1.1".  Line
    # breaks and no-break spaces inside a paragraph collapse to single spaces.
    xml = """<DIV5 N="164" TYPE="PART"><HEAD>PART 164</HEAD>
    <DIV8 N="§ 164.530" TYPE="SECTION"><HEAD>§ 164.530 Administrative requirements.</HEAD>
    <P>(a)(1) <I>Standard:
      Personnel designations.</I>\u00a0 (i) A covered entity must designate
</P>
    <P/></DIV8></DIV5>"""
    [section] = parse_ecfr_xml(xml)
    assert section.number == "164.530"
    assert section.heading == "Administrative requirements."
    assert section.paragraphs == (
        "(a)(1) Standard: Personnel designations. (i) A covered entity must designate",
    )


def test_section_response_rooted_at_div8_without_n() -> None:
    xml = b"<DIV8 TYPE='SECTION'><HEAD>\xc2\xa7 164.534 Compliance dates.</HEAD><P>x</P></DIV8>"
    [section] = parse_ecfr_xml(xml)
    assert (section.number, section.heading) == ("164.534", "Compliance dates.")


def test_extract_fp_and_note_text_kept_editorial_notes_dropped() -> None:
    # Synthetic markup for GPO elements the fixture lacks.  P is put inside every
    # editorial element so that each exclusion is what keeps its text out.
    xml = """<DIV8 N="1.1" TYPE="SECTION"><HEAD>§ 1.1 Forms.</HEAD>
    <P>(a) Use this form:</P>
    <EXTRACT><FP>(Signature)</FP><FP-DASH>Date:</FP-DASH></EXTRACT>
    <NOTE><HED>Note:</HED><P>Keep a copy.</P></NOTE>
    <EFFDNOT><HED>Effective Date Note:</HED><P>(a) Future wording, not yet in force.</P></EFFDNOT>
    <EDNOTE><HED>Editorial Note:</HED><P>Nomenclature changes.</P></EDNOTE>
    <SECAUTH><HED>Authority:</HED><P>5 U.S.C. 301.</P></SECAUTH>
    <APPRO TYPE="N"><P>(Approved by OMB under control number 0000-0000)</P></APPRO>
    <CITA TYPE="N"><P>[1 FR 1, Jan. 1, 2000]</P></CITA></DIV8>"""
    [section] = parse_ecfr_xml(xml)
    assert section.paragraphs == ("(a) Use this form:", "(Signature)", "Date:", "Keep a copy.")


@pytest.mark.parametrize(
    "data",
    [b"", "<DIV5><DIV8 N='1.1'><P>unclosed</DIV8></DIV5>", "<html><body>502</body></html"],
)
def test_malformed_xml_raises(data: bytes | str) -> None:
    with pytest.raises(EcfrParseError, match="malformed eCFR XML"):
        parse_ecfr_xml(data)


def test_xml_without_sections_raises() -> None:
    with pytest.raises(EcfrParseError, match=r"no DIV8 .*<DIV5>"):
        parse_ecfr_xml('<DIV5 N="164" TYPE="PART"><HEAD>PART 164</HEAD></DIV5>')


def test_section_without_any_number_raises() -> None:
    with pytest.raises(EcfrParseError, match="without a number"):
        parse_ecfr_xml("<DIV8><HEAD>Untitled.</HEAD><P>x</P></DIV8>")
