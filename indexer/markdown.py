"""The mirror's per-section markdown files → :class:`RawSection`.

Each file is a header block (title, citation, version, source, rights), a line
``---``, then the section: its heading line (``§ 164.501 Definitions.`` or a
``#####`` heading for the U.S. Code), one paragraph per blank-line-separated
block, and a closing source note in brackets.
"""

from __future__ import annotations

import re
from pathlib import Path

from indexer.errors import SourceError
from indexer.sections import RawSection

_HEADING = re.compile(r"^§\s*(?P<number>\d+\.\d+)\s+(?P<heading>.+)$")
_SOURCE_NOTE = re.compile(r"^\[\d+ FR .*\]$")
_TITLE = re.compile(
    r"^#\s+(?:\d+\s+(?:CFR|U\.S\.C\.)\s+)?§?\s*(?P<number>[\d.]+)\.?\s+(?P<heading>.+)$"
)


def split_header(text: str) -> tuple[dict[str, str], str]:
    """Separate the mirror's header block from the body at the first ``---`` line."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "---":
            header: dict[str, str] = {}
            for h in lines[:i]:
                key, sep, value = h.lstrip("-# ").partition(":")
                if sep and key and len(key) < 30:
                    header[key.strip().lower()] = value.strip()
                elif h.startswith("# "):
                    header["title"] = h[2:].strip()
            return header, "\n".join(lines[i + 1 :])
    return {}, text


def parse_section_markdown(text: str, origin: str) -> RawSection:
    """Parse one mirror file; ``origin`` names it in error messages."""
    header, body = split_header(text)
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", body) if b.strip()]
    # U.S. Code files mark subsections as markdown headings; the marker is what counts.
    blocks = [b.lstrip("#").strip() for b in blocks]
    if not blocks:
        raise SourceError(
            f"{origin}: no text after the header block", "Check the file is complete."
        )
    number, heading = "", ""
    m = _HEADING.match(blocks[0])
    if m:
        number, heading = m.group("number"), m.group("heading")
        blocks = blocks[1:]
    else:
        t = _TITLE.match("# " + header.get("title", ""))
        if t:
            number, heading = t.group("number").rstrip("."), t.group("heading")
    paragraphs = tuple(b for b in blocks if not _SOURCE_NOTE.match(b))
    if not paragraphs:
        raise SourceError(f"{origin}: the section has no paragraphs", "Check the file is complete.")
    return RawSection(number=number, heading=heading, paragraphs=paragraphs)


def read_section_markdown(path: Path) -> RawSection:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read ({exc})", "Check the path and encoding.") from exc
    if not text.strip():
        raise SourceError(f"{path}: the file is empty", "Restore it from the official source.")
    return parse_section_markdown(text, str(path))
