"""Typed values the indexer hands to the rest of the product.

``Citation`` is the contract every other layer speaks: the classifier cites with it,
the evaluation matches expected against predicted citations with it, and the web
chat links passages by it.  Its text form is the one of ``LABELS.md``::

    45 CFR 164.508(a)(3)
    45 CFR 164.501 "marketing" (2)(ii)(A)      # a paragraph of a definition
    42 U.S.C. 17936(a)(2)

Definitions are addressed by their term because 164.501 and 160.103 have no
paragraph letters of their own: the term *is* the first step of the path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from indexer.errors import CitationError


class SourceKind(StrEnum):
    """How much weight a source carries: only law is ever cited as law."""

    REGULATION = "regulation"
    STATUTE = "statute"
    GUIDANCE = "guidance"
    SECONDARY = "secondary"


_CFR = re.compile(
    r"""^\s*(?:(?P<title>\d+)\s*C\.?\s*F\.?\s*R\.?\s*)?(?:(?:§|Sec\.|section)\s*)?
        (?P<section>\d{3}\.\d{2,3})(?P<rest>.*)$""",
    re.IGNORECASE | re.VERBOSE,
)
_USC = re.compile(
    r"^\s*(?P<title>\d+)\s*U\.?\s*S\.?\s*C\.?\s*(?:§\s*)?(?P<section>\d{3,6}[a-z]?)(?P<rest>.*)$",
    re.IGNORECASE,
)
_STEP = re.compile(r'^(?:\(\s*(?P<marker>[A-Za-z0-9]+)\s*\)|[“"](?P<term>[^"”]+)[”"])\s*')


def term_step(term: str) -> str:
    """The path step that addresses a defined term: its words, lower case, in quotes."""
    return '"' + " ".join(term.lower().split()) + '"'


def _parse_path(rest: str, original: str) -> tuple[str, ...]:
    steps: list[str] = []
    rest = rest.strip()
    while rest:
        m = _STEP.match(rest)
        if not m:
            raise CitationError(f"cannot read the paragraph path {rest!r} in citation {original!r}")
        steps.append(m.group("marker") or term_step(m.group("term")))
        rest = rest[m.end() :]
    return tuple(steps)


@dataclass(frozen=True, order=True)
class Citation:
    """A citation of federal law down to a paragraph, or a paragraph of a definition.

    ``code`` is ``"CFR"`` or ``"U.S.C."``.  ``path`` is the outline path below the
    section; a step in double quotes is a defined term (``'"marketing"'``), any
    other step a paragraph marker without its parentheses (``"a"``, ``"3"``).
    """

    code: str
    title: int
    section: str
    path: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Citation:
        """Read the forms staff and LLMs write: ``45 CFR § 164.508(a)(3)``, ``§ 164.508``,
        ``164.501 "marketing" (2)(i)``, ``42 U.S.C. 17936(a)``.  A bare section number is
        read as 45 CFR, the title the Privacy Rule lives in."""
        m = _USC.match(text)
        if m:
            path = _parse_path(m.group("rest"), text)
            return cls("U.S.C.", int(m.group("title")), m.group("section"), path)
        m = _CFR.match(text)
        if m:
            path = _parse_path(m.group("rest"), text)
            return cls("CFR", int(m.group("title") or 45), m.group("section"), path)
        raise CitationError(f"not a citation of 45 CFR or 42 U.S.C.: {text!r}")

    def format(self) -> str:
        out = f"{self.title} {self.code} {self.section}"
        for i, step in enumerate(self.path):
            if step.startswith('"'):
                out += f" {step}"
            else:
                after_term = i > 0 and self.path[i - 1].startswith('"')
                out += (" " if after_term else "") + f"({step})"
        return out

    def __str__(self) -> str:
        return self.format()

    @property
    def term(self) -> str | None:
        """The defined term this citation points into, if any."""
        for step in self.path:
            if step.startswith('"'):
                return step.strip('"')
        return None

    def section_citation(self) -> Citation:
        return Citation(self.code, self.title, self.section)

    def matches(self, other: Citation) -> bool:
        """LABELS.md matching: same section, and one paragraph path a prefix of the other.

        ``45 CFR 164.501`` matches every definition in 164.501; ``164.508(a)(3)(i)``
        matches an expected ``164.508(a)(3)``; ``164.508(a)(3)`` does not match
        ``164.508(a)(4)``.
        """
        if (self.code, self.title, self.section) != (other.code, other.title, other.section):
            return False
        shorter = min(len(self.path), len(other.path))
        return self.path[:shorter] == other.path[:shorter]


@dataclass(frozen=True)
class Passage:
    """The unit of retrieval: one lowest paragraph of law, or one block of guidance.

    ``ref`` is unique within a corpus version and is what change reports and
    diffs are keyed by: the formatted citation for law, ``"<source id> ¶ <locator>"``
    for guidance and secondary text (which are never cited as law).
    ``context`` holds the lead-in text of the parent paragraphs, outermost first,
    because a lowest paragraph such as "(i) For a purpose listed in ..." means
    nothing without them.
    """

    ref: str
    source_id: str
    kind: SourceKind
    section_heading: str
    text: str
    citation: Citation | None = None
    context: tuple[str, ...] = ()
    cross_refs: tuple[str, ...] = ()
    as_of: str = ""
    url: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_law(self) -> bool:
        return self.kind in (SourceKind.REGULATION, SourceKind.STATUTE)

    @property
    def page_url(self) -> str:
        """The address a person opens to read the official text (see :func:`page_url`)."""
        return page_url(self.url)

    def embedding_text(self, lead_in_chars: int = 240) -> str:
        """What the embedder sees: where the paragraph sits, then what it says.

        The embedder reads 256 tokens at most, so each lead-in is shortened at a
        word boundary; the passage's own text is never shortened here.
        """
        parts = [self.ref, self.section_heading]
        for lead in self.context:
            parts.append(shorten(lead, lead_in_chars))
        parts.append(self.text)
        return "\n".join(p for p in parts if p)


_VERSIONER = re.compile(
    r"^https://www\.ecfr\.gov/api/versioner/v1/full/[^/]+/title-(\d+)\.xml\?part=(\d+)"
    r"&section=([\d.]+)$"
)


def page_url(url: str) -> str:
    """A source address as a page to read.  The eCFR versioner address the indexer downloads
    from (with its ``{date}`` placeholder) is XML for machines; people get the eCFR's page of
    the section.  Other addresses are pages already."""
    m = _VERSIONER.match(url)
    if m is None:
        return url
    title, part, section = m.groups()
    return f"https://www.ecfr.gov/current/title-{title}/part-{part}/section-{section}"


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters at a word boundary, never mid-word."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"
