"""Read sections out of official eCFR XML (the ecfr.gov versioner API).

The versioner serves the same SGML-derived markup GPO documents in its e-CFR
XML User Guide (github.com/usgpo/bulk-data, ``ECFR-XML-User-Guide.md``):
nested ``DIV1`` (title) ... ``DIV5 TYPE="PART"`` ... ``DIV8 TYPE="SECTION"``
elements, each with a ``HEAD``.  Paragraph numbering is plain text at the start
of each flat ``P`` ("(a) ...", "(1) ..."), never element nesting, which is why
a section's body maps directly onto :class:`RawSection.paragraphs`.

The root element depends on the request: a whole title arrives wrapped around
``DIV1``, ``?part=164`` returns a ``DIV5`` root and ``?section=`` a ``DIV8``
root.  We therefore search the whole tree for ``DIV8`` instead of walking a
fixed path.  ``N`` is ``"164.501"`` in versioner output but ``"§ 164.501"`` in
GPO bulk files, so the section sign is stripped either way.

Only stdlib ``xml.etree`` is used: the input comes from ecfr.gov, etree never
fetches external entities, and expat 2.4.1 or later (this venv has 2.5.0)
refuses billion-laughs entity expansion.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator

from indexer.sections import RawSection


class EcfrParseError(ValueError):
    """The input is not eCFR XML we can read sections from."""


# Editorial apparatus inside a DIV8, not regulatory text: source notes (CITA),
# section authority (SECAUTH), editorial notes, OMB approval lines and
# effective-date notes, which may quote not-yet-effective paragraph text in
# their own P elements.  Nothing below these becomes a paragraph.  (The part's
# AUTH and SOURCE sit outside every DIV8, so they are never read at all.)
_EXCLUDED = frozenset({"CITA", "SECAUTH", "EDNOTE", "EFFDNOT", "APPRO"})

# GPO's flush-paragraph family (FP, FP-1, FP-2, FP-DASH, FP1-2, FP2-3, ...)
# carries body text just like P, mostly inside EXTRACT blocks.
_PARAGRAPH = re.compile(r"P|FP[-0-9A-Z]*")

# "§ 164.501", "§§ 164.535-164.599" and the like at the start of N or HEAD.
_SECTION_PREFIX = re.compile(r"^\s*§+\s*(?P<number>\S+)")


def parse_ecfr_xml(data: bytes | str, wanted: Collection[str] | None = None) -> list[RawSection]:
    """Return every ``DIV8`` section in document order.

    ``wanted`` keeps only the listed section numbers (``"164.501"``; a leading
    ``"§"`` is tolerated); numbers absent from the XML are simply not returned.
    Raises :class:`EcfrParseError` if ``data`` is not well-formed XML or holds
    no ``DIV8`` section at all (an error page or the wrong endpoint, typically).
    """
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise EcfrParseError(f"malformed eCFR XML: {exc}") from exc

    divs = list(root.iter("DIV8"))
    if not divs:
        raise EcfrParseError(f"no DIV8 section elements in eCFR XML (root element <{root.tag}>)")

    keep = None if wanted is None else {_normalize_number(w) for w in wanted}
    sections = (_read_section(div) for div in divs)
    return [s for s in sections if keep is None or s.number in keep]


def _read_section(div: ET.Element) -> RawSection:
    head_el = div.find("HEAD")
    head = _text(head_el) if head_el is not None else ""
    number = _normalize_number(div.get("N", "")) or _number_from_head(head)
    if not number:
        raise EcfrParseError(f"DIV8 section without a number (no N attribute, HEAD {head!r})")
    return RawSection(
        number=number,
        heading=_SECTION_PREFIX.sub("", head, count=1).strip(),
        paragraphs=tuple(p for p in (_text(el) for el in _paragraph_elements(div)) if p),
    )


def _paragraph_elements(el: ET.Element) -> Iterator[ET.Element]:
    """Yield paragraph elements below ``el`` in document order.

    Recursing by hand (rather than ``el.iter()``) lets excluded subtrees be
    skipped whole and stops at a paragraph, so its inline children (I, E, SU)
    are flattened into it instead of being read again.
    """
    for child in el:
        if child.tag in _EXCLUDED:
            continue
        if _PARAGRAPH.fullmatch(child.tag):
            yield child
        else:
            yield from _paragraph_elements(child)


def _text(el: ET.Element) -> str:
    # itertext() flattens inline markup such as <I>Marketing:</I>; collapsing
    # whitespace undoes the line breaks GPO leaves before closing tags.
    return " ".join("".join(el.itertext()).split())


def _normalize_number(raw: str) -> str:
    return raw.replace("§", "").strip()


def _number_from_head(head: str) -> str:
    match = _SECTION_PREFIX.match(head)
    return match.group("number") if match else ""
