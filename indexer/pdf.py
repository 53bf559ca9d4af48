"""Read 45 CFR sections from the HHS combined regulation-text PDF.

The HHS compilation ("HIPAA Administrative Simplification Regulation Text",
March 2013) is a Word export set in three ragged-right columns on most pages.
``page.extract_text()`` reads straight across the columns and interleaves
unrelated sentences, so this module works from word positions instead: it
drops the running header and page number, finds each page's column gutters,
reads column by column, rebuilds paragraphs from the vertical spacing, and cuts
the stream into sections at the bold ``§ 164.501 Definitions.`` headings.

The layout figures below were measured on that PDF (10 pt Times, 11.5 pt line
pitch, paragraphs 25 pt apart, gutters 7.5 pt or wider).
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import pdfplumber
from pdfplumber.page import Page
from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

from indexer.sections import RawSection

__all__ = ["PdfReadError", "read_pdf_sections", "word_overlap"]


class PdfReadError(ValueError):
    """The file is not a readable PDF, or no section heading was found in it."""


_HEADING = re.compile(r"§\s*(\d+\.\d+)\s*(.*)")
_SOURCE_NOTE = re.compile(r"\[\d+ FR \d")
_TOC_LEADER = re.compile(r"\.{5}")
_PARAGRAPH_END = re.compile(r"(?:[.;:,]|\b(?:and|or))$")
_PARAGRAPH_START = re.compile(r"\((?:[a-z]{1,5}|\d{1,2}|[A-Z])\)|\[\d+ FR ")
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")  # "individual's" is one word

# Word spaces are at least 1.9 pt wide; a narrower gap between two pdfplumber
# words is a kerned run split inside one word (page number "9" + "6").
_MIN_SPACE = 1.0
# Wider than any inter-word space, narrower than the narrowest gutter (7.5 pt).
_MIN_GUTTER = 5.0
# A step down a column larger than this many line pitches is a paragraph gap.
_PARAGRAPH_STEP = 1.5
# A row repeating at the same height on this share of pages is running matter.
_RUNNING_SHARE = 0.5


@dataclass(frozen=True)
class _Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    bold: bool
    italic: bool


@dataclass(frozen=True)
class _Line:
    page: int
    column: int
    top: float
    words: tuple[_Word, ...]

    @property
    def text(self) -> str:
        return _join_words(self.words)

    @property
    def bold(self) -> bool:
        return all(w.bold for w in self.words)


@dataclass
class _Block:
    """Consecutive lines that form one paragraph or one heading."""

    text: str
    bold: bool
    first_page: int
    last_page: int


@dataclass
class _Draft:
    """A section being collected; ``collecting`` ends at its source note."""

    number: str
    heading: str
    first_page: int
    last_page: int
    paragraphs: list[str] = field(default_factory=list)
    collecting: bool = True

    def build(self) -> RawSection:
        pages = f"{self.first_page}"
        if self.last_page != self.first_page:
            pages += f"-{self.last_page}"
        return RawSection(self.number, self.heading, tuple(self.paragraphs), f"PDF p. {pages}")


def read_pdf_sections(path: Path, wanted: Collection[str] | None = None) -> list[RawSection]:
    """Return the sections of the PDF at ``path`` in document order.

    ``wanted`` limits the result to those section numbers (``"164.501"``).
    The cover and the table of contents (pages with dot leaders) yield
    nothing.  Raises :class:`PdfReadError` if ``path`` is not a PDF or holds no sections
    (a missing file raises :class:`FileNotFoundError` as usual).
    """
    try:
        with pdfplumber.open(path) as pdf:
            pages = [_page_words(page) for page in pdf.pages]
    except (PdfminerException, MalformedPDFException) as exc:
        raise PdfReadError(f"{path}: not a readable PDF ({exc})") from exc
    lines = [
        line
        for number, words in enumerate(_drop_running(pages), 1)
        if not any(_TOC_LEADER.search(w.text) for w in words)  # table of contents
        for line in _page_lines(number, words)
    ]
    sections = list(_sections(_blocks(lines)))
    if not sections:
        raise PdfReadError(f"{path}: no '§ nnn.nnn' section headings found")
    return [s for s in sections if wanted is None or s.number in wanted]


def word_overlap(a: str, b: str) -> float:
    """Similarity of two texts as 2 * matched words / all words (1.0 = same words).

    Case and punctuation are ignored so that the measure compares wording, not
    typography; ``autojunk`` is off because frequent words ("the", "of") must
    count like any other word in legal text.
    """
    words_a, words_b = _WORD.findall(a.lower()), _WORD.findall(b.lower())
    if not words_a and not words_b:
        return 1.0
    matcher = difflib.SequenceMatcher(None, words_a, words_b, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return 2.0 * matched / (len(words_a) + len(words_b))


def _page_words(page: Page) -> list[_Word]:
    """Words of one page, split by pdfplumber at the PDF's space glyphs."""
    return [
        _Word(
            text=w["text"],
            x0=w["x0"],
            x1=w["x1"],
            top=w["top"],
            bottom=w["bottom"],
            bold=all("Bold" in c["fontname"] for c in w["chars"]),
            italic=all("Italic" in c["fontname"] for c in w["chars"]),
        )
        for w in page.extract_words(return_chars=True)
    ]


def _join_words(words: Sequence[_Word]) -> str:
    """A row's text: words joined by one space, kerned pieces closed up."""
    text = words[0].text
    for before, word in itertools.pairwise(words):
        text += ("" if word.x0 - before.x1 < _MIN_SPACE else " ") + word.text
    return text


def _drop_running(pages: Sequence[Sequence[_Word]]) -> list[list[_Word]]:
    """Pages minus running headers, footers and page numbers.

    This must run before column detection because the running header spans
    the gutters.  Each page is cut into full-width rows; a row whose text
    (digits masked, so page numbers match) recurs at the same height on at
    least half the pages is running matter.  Body rows mix three columns and
    never recur.
    """
    rows = [_group_rows(words) for words in pages]

    def key(row: list[_Word]) -> tuple[str, int]:
        return re.sub(r"\d+", "#", _join_words(row)), round(row[0].top)

    counts = Counter(key(row) for page in rows for row in page)
    limit = max(2.0, len(pages) * _RUNNING_SHARE)
    return [[word for row in page if counts[key(row)] < limit for word in row] for page in rows]


def _group_rows(words: Iterable[_Word]) -> list[list[_Word]]:
    """Words grouped into rows of vertically overlapping words, top to bottom.

    The 2 pt allowance keeps small capitals ("S" + "OURCE") in their row.
    """
    rows: list[list[_Word]] = []
    for word in sorted(words, key=lambda w: (w.top, w.x0)):
        if rows and word.top < min(w.bottom for w in rows[-1]) - 2:
            rows[-1].append(word)
        else:
            rows.append([word])
    return [sorted(row, key=lambda w: w.x0) for row in rows]


def _page_lines(page: int, words: Sequence[_Word]) -> Iterator[_Line]:
    """Lines of one page in reading order: column by column, top to bottom.

    Column count and positions differ within the PDF (gutters near x = 222
    and 390 up to page 68, 227 and 385 from Subpart D on, one or none on
    short and table pages), so they are found per page, not configured.
    """
    gutters = _gutters(words)
    columns: list[list[_Word]] = [[] for _ in range(len(gutters) + 1)]
    for word in words:
        centre = (word.x0 + word.x1) / 2
        columns[sum(centre > g for g in gutters)].append(word)
    for index, column in enumerate(columns):
        for row in _group_rows(column):
            yield _Line(page, index, row[0].top, tuple(row))


def _gutters(words: Sequence[_Word]) -> list[float]:
    """Centres of the vertical white strips that separate the page's columns.

    A gutter is an x-range at least ``_MIN_GUTTER`` wide that no word on the
    page overlaps; the sweep keeps the right edge reached so far.
    """
    spans = sorted((w.x0, w.x1) for w in words)
    gutters: list[float] = []
    reach = spans[0][1] if spans else 0.0
    for x0, x1 in spans[1:]:
        if x0 - reach >= _MIN_GUTTER:
            gutters.append((x0 + reach) / 2)
        reach = max(reach, x1)
    return gutters


def _blocks(lines: Sequence[_Line]) -> Iterator[_Block]:
    """Rejoin lines into paragraphs (and multi-line headings).

    Inside a column a paragraph break shows as extra white space: the line
    pitch is measured (the median top-to-top step) and a bigger step starts a
    new block, as does a switch between bold and regular type.  At the top of
    a column there is no gap to see; see :func:`_continues`.
    """
    steps = [b.top - a.top for a, b in itertools.pairwise(lines) if _same_column(a, b)]
    limit = median(steps) * _PARAGRAPH_STEP if steps else 0.0
    block: _Block | None = None
    previous: _Line | None = None
    for line in lines:
        if block and previous and _continues(block, previous, line, limit):
            block.text = _join_lines(block.text, line.text)
            block.last_page = line.page
        else:
            if block:
                yield block
            block = _Block(line.text, line.bold, line.page, line.page)
        previous = line
    if block:
        yield block


def _same_column(a: _Line, b: _Line) -> bool:
    return a.page == b.page and a.column == b.column


def _continues(block: _Block, previous: _Line, line: _Line, limit: float) -> bool:
    """Whether ``line`` continues ``block``, whose last line is ``previous``.

    Within a column, the step from ``previous`` decides.  At the top of a
    column a new paragraph is recognised by its start (an outline marker, a
    source note, or an italic defined term such as "*Research* means") after
    text that can end one (".", ";", ":", or "," / "and" / "or" before a list
    item, as in "violated such provision, (A) In the amount of ...").
    """
    if line.bold != block.bold:
        return False
    if _same_column(previous, line):
        return line.top - previous.top <= limit
    ends = _PARAGRAPH_END.search(block.text) is not None
    starts = _PARAGRAPH_START.match(line.text) is not None or line.words[0].italic
    return not (ends and starts)


def _join_lines(text: str, following: str) -> str:
    """Append a wrapped line.

    The PDF has no soft hyphenation: every line-end hyphen or dash is part of
    the text ("half-" + "siblings", "104-" + "191", "837—" + "Health"), so it
    is kept and the next line is closed up to it.
    """
    return text + following if text.endswith(("-", "—")) else f"{text} {following}"


def _sections(blocks: Iterable[_Block]) -> Iterator[RawSection]:
    """Cut the stream of blocks into sections at bold ``§`` headings.

    A section ends at its bracketed source note or at any other bold block
    (part and subpart titles); what follows up to the next heading (a part's
    contents list, its authority and source citations) is skipped.
    """
    draft: _Draft | None = None
    for block in blocks:
        heading = _HEADING.fullmatch(block.text) if block.bold else None
        if heading:
            if draft:
                yield draft.build()
            draft = _Draft(heading[1], heading[2], block.first_page, block.last_page)
        elif draft is None or not draft.collecting:
            continue
        elif block.bold:
            draft.collecting = False
        else:
            draft.last_page = block.last_page
            if _SOURCE_NOTE.match(block.text):
                draft.collecting = False
            else:
                draft.paragraphs.append(block.text)
    if draft:
        yield draft.build()
