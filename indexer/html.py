"""Read an HHS guidance document (saved HTML page or markdown text) as one section.

Guidance has no CFR outline of its own, so the whole document becomes a single
:class:`RawSection` whose paragraphs are its text blocks in reading order;
headings inside the document are kept as paragraphs so later stages can still
tell which FAQ an answer belongs to.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag

from indexer.sections import RawSection


class GuidanceParseError(ValueError):
    """The input holds no guidance text to index."""


# Site chrome and non-rendered content; never part of the guidance itself.
_NOISE_TAGS = frozenset(
    {"nav", "header", "footer", "aside", "script", "style", "noscript", "template"}
)

# Chrome that is marked only by class or id ("usa-nav__primary", "sidenav",
# "menu-item", "usa-breadcrumb", "site-footer").  Matching whole words of the
# name rather than substrings keeps e.g. class="unavailable-notice" as content.
_NOISE_WORD = re.compile(
    r"(?:side|sub|top)?nav(?:bar|igation)?|menu|breadcrumbs?|footer", re.IGNORECASE
)
_NAME_SPLIT = re.compile(r"[\s_-]+")

_SUBHEADING = re.compile(r"#{2,6}\s+(.*)")
_HEADER_ENTRY = re.compile(r"- [^:]+: ")

# Elements that start a new paragraph.  The brief's paragraph elements (p, li,
# dd, blockquote, h2-h4) are among them; layout containers (div, td, ...) are
# too, so text placed straight into a <div> or separated by <br> (older
# answers.hhs.gov pages) is still split into paragraphs instead of merged.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "blockquote", "br", "caption", "dd", "details", "div", "dl",
        "dt", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
        "main", "ol", "p", "pre", "section", "summary", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip


def parse_guidance_html(data: bytes | str, doc_id: str) -> RawSection:
    """Read a saved guidance web page into one section numbered ``doc_id``.

    The text comes from ``<main>`` (else the first ``<article>``, else
    ``<body>``) with navigation, headers, footers, sidebars and scripts left
    out.  The heading is the page's ``<h1>``, else its ``<title>``, else
    ``doc_id``; the ``<h1>`` is not repeated as a paragraph.
    """
    soup = BeautifulSoup(data, "html.parser")
    root = soup.select_one("main") or soup.select_one("article") or soup.select_one("body") or soup
    # The <h1> often sits in the article's own <header>, which is chrome for
    # paragraph purposes, so it is looked up before any filtering.
    h1 = root.select_one("h1")
    heading = next((t for t in map(_tag_text, (h1, soup.select_one("title"))) if t), doc_id)
    paragraphs = _Blocks(skip=h1).read(root)
    if not paragraphs:
        raise GuidanceParseError(f"{doc_id}: no text found in the page's main content")
    return RawSection(number=doc_id, heading=heading, paragraphs=paragraphs)


def parse_guidance_text(text: str, doc_id: str) -> RawSection:
    """Read a markdown or plain-text guidance file into one section.

    Files in the shared corpus start with ``# Title`` and a provenance block
    of ``- Key: value`` lines closed by ``---``; that block describes where
    the text came from and is not guidance, so it is dropped.  Paragraphs are
    the blank-line-separated blocks that follow, with ``**`` removed;
    ``##`` headings become paragraphs of their own, without the hashes.
    """
    lines = text.splitlines()
    heading = next((line[2:].strip() for line in lines if line.startswith("# ")), "")

    paragraphs: list[str] = []
    block: list[str] = []
    for line in [*_without_header(lines), ""]:
        subheading = _SUBHEADING.match(line)
        # The "# " title is the heading and a "---" rule is layout: both only
        # end the current block.
        if not line.strip() or subheading or line.startswith("# ") or line.strip() == "---":
            paragraphs.append(" ".join(" ".join(block).replace("**", "").split()))
            block.clear()
            if subheading:
                paragraphs.append(" ".join(subheading.group(1).replace("**", "").split()))
        else:
            block.append(line)
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        raise GuidanceParseError(f"{doc_id}: no text found")
    return RawSection(number=doc_id, heading=heading or doc_id, paragraphs=tuple(paragraphs))


def _without_header(lines: list[str]) -> list[str]:
    """Drop the ``- Key: value`` block ending at the first ``---`` line.

    A ``---`` is only taken as the header's end when the first line of
    content before it is such an entry; otherwise it is an ordinary markdown
    rule and nothing is dropped.
    """
    end = next((i for i, line in enumerate(lines) if line.strip() == "---"), None)
    if end is None:
        return lines
    first = next((ln for ln in lines[:end] if ln.strip() and not ln.startswith("# ")), "")
    return lines[end + 1 :] if _HEADER_ENTRY.match(first) else lines


def _tag_text(tag: Tag | None) -> str:
    return "" if tag is None else " ".join(tag.get_text().split())


def _is_noise(tag: Tag) -> bool:
    if tag.name in _NOISE_TAGS:
        return True
    names = [*tag.get_attribute_list("class"), tag.get("id") or ""]
    words = (w for name in names for w in _NAME_SPLIT.split(str(name)))
    return any(_NOISE_WORD.fullmatch(w) for w in words)


class _Blocks:
    """Collects paragraphs: runs of inline text between block boundaries."""

    def __init__(self, skip: Tag | None) -> None:
        self._skip = skip  # the <h1> already used as the section heading
        self._done: list[str] = []
        self._pending: list[str] = []

    def read(self, root: Tag) -> tuple[str, ...]:
        self._walk(root)
        self._flush()
        return tuple(self._done)

    def _walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Tag):
                if child is self._skip or _is_noise(child):
                    continue
                if child.name in _BLOCK_TAGS:
                    self._flush()
                    self._walk(child)
                    self._flush()
                else:  # inline markup (a, strong, em, span) stays in the paragraph
                    self._walk(child)
            elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
                self._pending.append(str(child))  # comments/doctype are PreformattedString

    def _flush(self) -> None:
        text = " ".join("".join(self._pending).split())
        self._pending.clear()
        if text:
            self._done.append(text)
