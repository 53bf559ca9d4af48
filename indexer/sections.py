"""The shape every source reader hands to the outline parser.

Readers (markdown mirror, eCFR XML, PDF, HTML) differ only in how they find the
text; once a section's body is a list of paragraphs in reading order, the CFR
outline logic in :mod:`indexer.outline` is shared by all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RawSection:
    """One section of law (or one guidance document) as read from a source.

    ``number`` is the section number without title or symbol: ``"164.501"`` for
    45 CFR, ``"17936"`` for 42 U.S.C.  ``paragraphs`` is the body in reading
    order, one block of text per paragraph, each starting with its outline
    marker when it has one (``"(a) Standard: ..."``, ``"(1) A covered ..."``) or
    a defined term (``"Marketing: (1) ..."``).  The section heading line and the
    trailing source note (``"[65 FR 82802, ...]"``) are not paragraphs.
    """

    number: str
    heading: str
    paragraphs: tuple[str, ...]
    page_hint: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
