"""Tests for :mod:`indexer.pdf` against the HHS regulation-text PDF.

The oracle is the per-section markdown in ``shared/corpus`` (extracted earlier
from the same PDF and checked word by word against an independent copy; see
``shared/corpus/SOURCES.md``).  Parsing the whole PDF takes 12-15 s, so it is
done once per module and those tests are marked ``slow``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from indexer.pdf import PdfReadError, read_pdf_sections, word_overlap
from indexer.sections import RawSection

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"
PDF = CORPUS / "originals" / "hipaa-simplification-201303.pdf"

# Minimum word overlap of each PDF section with its markdown body.  Measured
# 1.0000 for every section (pdfplumber 0.11.10).  The slack of 0.005 absorbs a
# few words of drift from a pdfplumber upgrade; one wrong word already fails
# the short sections (164.102: 41 words, 164.106: 31 words), and a misread
# column order or a leaked page header fails every long one.
MIN_OVERLAP = {
    "160.103": 0.995,
    "164.102": 0.995,
    "164.103": 0.995,
    "164.104": 0.995,
    "164.105": 0.995,
    "164.106": 0.995,
    "164.500": 0.995,
    "164.501": 0.995,
    "164.502": 0.995,
    "164.504": 0.995,
    "164.506": 0.995,
    "164.508": 0.995,
    "164.510": 0.995,
    "164.512": 0.995,
    "164.514": 0.995,
    "164.520": 0.995,
    "164.522": 0.995,
    "164.524": 0.995,
    "164.526": 0.995,
    "164.528": 0.995,
    "164.530": 0.995,
    "164.532": 0.995,
    "164.534": 0.995,
}
OVERALL_MIN_OVERLAP = 0.999

_SOURCE_NOTE = re.compile(r"\[\d+ FR \d")


def _markdown_numbers() -> set[str]:
    return {p.stem for p in CORPUS.glob("16*.md")}


def _markdown(number: str) -> tuple[str, list[str], str]:
    """Heading line, body paragraphs (no source note) and page range of one file."""
    header, _, text = (CORPUS / f"{number}.md").read_text(encoding="utf-8").partition("\n---\n")
    heading, *blocks = [b.strip() for b in text.strip().split("\n\n")]
    pages = re.search(r"PDF pages? ([\d-]+)", header)
    assert pages, f"{number}.md: no 'PDF pages' in header"
    return heading, [b for b in blocks if not _SOURCE_NOTE.match(b)], pages[1]


@pytest.fixture(scope="module")
def sections() -> dict[str, RawSection]:
    if not PDF.is_file():
        pytest.skip(f"shared corpus not found at {SHARED}")
    found = read_pdf_sections(PDF, wanted=_markdown_numbers())
    numbers = [s.number for s in found]
    assert len(numbers) == len(set(numbers)), f"duplicate sections: {numbers}"
    return {s.number: s for s in found}


def test_word_overlap() -> None:
    assert word_overlap("The covered entity", "the  covered, entity.") == 1.0
    assert word_overlap("a b c d", "a b c e") == 0.75
    assert word_overlap("a b c e", "a b c d") == 0.75
    assert word_overlap("a b", "c d") == 0.0
    assert word_overlap("", "") == 1.0
    assert word_overlap("individual's", "individual s") < 1.0


def test_not_a_pdf(tmp_path: Path) -> None:
    text = tmp_path / "notes.pdf"
    text.write_text("§ 164.501 Definitions.\n", encoding="utf-8")
    with pytest.raises(PdfReadError, match="not a readable PDF"):
        read_pdf_sections(text)
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(PdfReadError):
        read_pdf_sections(empty)


def _blank_pdf() -> bytes:
    """A valid one-page PDF without text, built by hand (no PDF writer is a dependency)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)


def test_pdf_without_sections(tmp_path: Path) -> None:
    blank = tmp_path / "blank.pdf"
    blank.write_bytes(_blank_pdf())
    with pytest.raises(PdfReadError, match=r"no '§ nnn\.nnn' section headings"):
        read_pdf_sections(blank)


@pytest.mark.slow
def test_section_set_and_order(sections: dict[str, RawSection]) -> None:
    assert set(sections) == _markdown_numbers() == set(MIN_OVERLAP)
    assert list(sections) == sorted(sections, key=lambda n: [int(p) for p in n.split(".")])


@pytest.mark.slow
@pytest.mark.parametrize("number", sorted(MIN_OVERLAP))
def test_section_matches_markdown(sections: dict[str, RawSection], number: str) -> None:
    section = sections[number]
    heading, paragraphs, pages = _markdown(number)
    assert f"§ {section.number} {section.heading}" == heading
    assert section.page_hint == f"PDF p. {pages}"
    overlap = word_overlap("\n".join(section.paragraphs), "\n".join(paragraphs))
    assert overlap >= MIN_OVERLAP[number], f"{number}: overlap {overlap:.4f}"
    # Measured: every section splits into exactly the markdown's paragraphs.
    assert len(section.paragraphs) == len(paragraphs)


@pytest.mark.slow
def test_overall_overlap(sections: dict[str, RawSection]) -> None:
    pdf_text = "\n".join(p for s in sections.values() for p in s.paragraphs)
    md_text = "\n".join(p for n in sections for p in _markdown(n)[1])
    assert word_overlap(pdf_text, md_text) >= OVERALL_MIN_OVERLAP


@pytest.mark.slow
def test_paragraphs_are_whole(sections: dict[str, RawSection]) -> None:
    for number, section in sections.items():
        md_words = set(" ".join(_markdown(number)[1]).split())
        for paragraph in section.paragraphs:
            assert paragraph.strip(), f"{number}: empty paragraph"
            assert not _SOURCE_NOTE.match(paragraph), f"{number}: source note kept"
            assert not paragraph.endswith("-"), f"{number}: cut word at {paragraph[-40:]!r}"
            assert not paragraph[0].islower(), f"{number}: starts mid-sentence {paragraph[:40]!r}"
            assert not re.search(r"\w- \w", paragraph), f"{number}: hyphen + space {paragraph!r}"
            # Words split or glued at line and column ends would not be markdown words.
            strays = [w for w in paragraph.split() if w not in md_words]
            assert not strays, f"{number}: words not in markdown: {strays[:5]}"
