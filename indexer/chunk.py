"""Sections → passages.

Law is cut along its own outline, one passage per lowest paragraph, because that
is the unit a privacy officer cites and checks.  Guidance and secondary text
have no outline, so they are cut under their headings into blocks small enough
for the embedder, at paragraph or sentence boundaries and never mid-word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from langchain_text_splitters import RecursiveCharacterTextSplitter

from indexer.models import Citation, Passage, SourceKind, shorten
from indexer.outline import build_outline
from indexer.sections import RawSection

DEFINITION_HEADINGS = ("definitions",)
GUIDANCE_CHUNK_CHARS = 900

# "§ 164.508(a)(3)", "§§ 164.502(e) and 164.504(e)", "section 164.512(b) of title 45",
# "§ 164.508(a)(2) through (4)"
_REF = r"\d{3}\.\d{2,3}(?:\([A-Za-z0-9]+\))*"
_SECTION_REFS = re.compile(
    rf"(?:§§?|\bsections?)\s*(?P<list>{_REF}(?:\s*(?:,|,?\s*and|,?\s*or)\s*(?:§\s*)?{_REF}"
    rf"|\s+through\s+\([A-Za-z0-9]+\))*)"
)
_ONE_REF = re.compile(rf"(?P<ref>{_REF})(?:\s+through\s+\((?P<last>[A-Za-z0-9]+)\))?")
# "paragraph (c)(2)(i)(A) of this section": a reference inside the same section.
_LOCAL_REF = re.compile(r"paragraphs?\s+(?P<path>(?:\([A-Za-z0-9]+\))+)\s+of this section")


def _expand(ref: str, last: str | None) -> list[str]:
    """``164.508(a)(2)`` through ``(4)`` → (a)(2), (a)(3), (a)(4)."""
    if last is None:
        return [ref]
    cite = Citation.parse(ref)
    first = cite.path[-1] if cite.path else ""
    if first.isdigit() and last.isdigit() and int(first) < int(last) <= int(first) + 20:
        steps = [str(n) for n in range(int(first), int(last) + 1)]
    elif len(first) == len(last) == 1 and first.isalpha() and first < last:
        steps = [chr(c) for c in range(ord(first), ord(last) + 1)]
    else:
        return [ref]
    return [
        Citation(cite.code, cite.title, cite.section, (*cite.path[:-1], s)).format() for s in steps
    ]


def cross_references(text: str, section: Citation | None = None) -> tuple[str, ...]:
    """Every provision a passage points at, as formatted citations, in order, once each."""
    found: list[str] = []
    for m in _SECTION_REFS.finditer(text):
        for one in _ONE_REF.finditer(m.group("list")):
            found.extend(_expand(Citation.parse(one.group("ref")).format(), one.group("last")))
    if section is not None and section.code == "CFR":
        for m in _LOCAL_REF.finditer(text):
            found.append(Citation.parse(f"{section.section}{m.group('path')}").format())
    return tuple(dict.fromkeys(found))


def law_passages(
    section: RawSection,
    *,
    source_id: str,
    kind: SourceKind,
    code: str,
    title: int,
    as_of: str,
    url: str,
) -> list[Passage]:
    """One passage per lowest paragraph of a section of 45 CFR or 42 U.S.C."""
    is_definitions = section.heading.strip().lower().rstrip(".") in DEFINITION_HEADINGS
    leaves = build_outline(section.paragraphs, usc=code == "U.S.C.", definitions=is_definitions)
    base = Citation(code, title, section.number)
    out = []
    for leaf in leaves:
        citation = Citation(code, title, section.number, leaf.path)
        out.append(
            Passage(
                ref=citation.format(),
                source_id=source_id,
                kind=kind,
                section_heading=f"{base.format()} {section.heading}".strip(),
                text=leaf.text,
                citation=citation,
                context=leaf.context,
                cross_refs=cross_references(" ".join((*leaf.context, leaf.text)), base),
                as_of=as_of,
                url=url,
            )
        )
    return out


def document_passages(
    section: RawSection, *, source_id: str, kind: SourceKind, as_of: str, url: str
) -> list[Passage]:
    """Guidance and secondary text: blocks under their headings, never cited as law.

    A paragraph that is a heading (short, no closing period) starts a new group,
    so an FAQ's question and answer stay together.
    """
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=GUIDANCE_CHUNK_CHARS,
        chunk_overlap=0,
        separators=["\n\n", "\n", ". ", "; ", ", ", " "],
        keep_separator="end",
    )
    groups: list[_Group] = [_Group("", url)]
    carry = ""
    for raw in section.paragraphs:
        para = " ".join(raw.split())
        source_line = _SOURCE_LINE.match(para)
        if source_line:
            # An FAQ's own address: the card for its passages links there.
            groups[-1].url = source_line.group(1)
        elif _is_label(para):
            carry = f"{carry} {para}".strip()  # "Answer:" belongs to what follows it
        elif _is_heading(para):
            groups.append(_Group(para, url))
        else:
            groups[-1].paragraphs.append(f"{carry} {para}".strip())
            carry = ""
    out: list[Passage] = []
    for group in groups:
        if not group.paragraphs:
            continue
        chunks = splitter.split_text("\n\n".join(group.paragraphs))
        for i, chunk in enumerate(chunks, start=1):
            label = group.heading or section.heading or source_id
            suffix = f" [{i}]" if len(chunks) > 1 else ""
            out.append(
                Passage(
                    ref=_unique(f"{source_id} ¶ {shorten(label, 80)}{suffix}", out),
                    source_id=source_id,
                    kind=kind,
                    section_heading=section.heading,
                    text=" ".join(chunk.split()),
                    context=(group.heading,) if group.heading else (),
                    cross_refs=cross_references(chunk),
                    as_of=as_of,
                    url=group.url,
                )
            )
    return out


@dataclass
class _Group:
    heading: str
    url: str
    paragraphs: list[str] = field(default_factory=list)


_SOURCE_LINE = re.compile(r"^Source:\s*(https?://\S+)")


def _is_label(paragraph: str) -> bool:
    return paragraph.endswith(":") and len(paragraph) <= 24


def _is_heading(paragraph: str) -> bool:
    """A short line without closing punctuation, such as "FAQ 1514" or "Marketing"."""
    return (
        len(paragraph) < 100
        and not paragraph.endswith((".", ":", ";", ",", "?", "!"))
        and not paragraph.startswith(("- ", "* "))
        and not re.match(r"^\d+\.\s", paragraph)
    )


def _unique(ref: str, existing: list[Passage]) -> str:
    taken = {p.ref for p in existing}
    candidate, n = ref, 2
    while candidate in taken:
        candidate, n = f"{ref} #{n}", n + 1
    return candidate
