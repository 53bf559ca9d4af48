"""The CFR (and U.S. Code) outline: paragraphs in reading order → a tree of paths.

Regulation text marks its hierarchy only with paragraph markers, and the same
marker means different levels in different places: ``(i)`` is the ninth
lettered paragraph after ``(h)`` but the first roman one under ``(1)``.  The
Federal Register's drafting rules fix the order of levels, which is what lets a
marker be placed without guessing:

* CFR: ``(a)`` → ``(1)`` → ``(i)`` → ``(A)`` → italic ``(1)`` → italic ``(i)``
* U.S. Code: ``(a)`` subsection → ``(1)`` paragraph → ``(A)`` subparagraph →
  ``(i)`` clause → ``(I)`` subclause

A marker is either the next sibling of a level already open or the first child of
the current one.  Where both readings exist (``(i)`` after ``(h)``, ``(v)`` after
``(iv)`` and ``(u)``), the next marker decides: ``(ii)`` follows a roman ``(i)``,
``(1)`` or ``(j)`` a lettered one.

Definitions sections address their paragraphs by the defined term, which opens
a level of its own (``164.501 "marketing" (2)(ii)(A)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.models import term_step

CFR_LEVELS = ("lower", "digit", "roman", "upper", "digit", "roman")
USC_LEVELS = ("lower", "digit", "upper", "roman", "upperroman")

_ROMAN = {
    r: i + 1
    for i, r in enumerate(
        "i ii iii iv v vi vii viii ix x xi xii xiii xiv xv xvi xvii xviii xix xx xxi xxii "
        "xxiii xxiv xxv xxvi xxvii xxviii xxix xxx".split()
    )
}

_LEADING = re.compile(r"^\(([A-Za-z]{1,6}|\d{1,3})\)\s*")
_RANGE = re.compile(r"^\(([a-z]|\d+)\)\s*[-–]\s*\(([a-z]|\d+)\)\s*\[Reserved\]\s*$")
# An inline first child after a heading: "(c) Implementation specifications: .... (1) A ..."
# A paragraph that starts inline, after a heading or a sentence: "(c) Implementation
# specifications: .... (1) A covered ...", "... —(1) Authorization ...", "... subpart. (ii) Such".
_INLINE = re.compile(r"(?:(?<=[.:;])\s+|\s*—\s*)\(([A-Za-z]{1,6}|\d{1,3})\)\s+(?=[A-Z“\"])")
# "Research means ...", "Marketing: (1) ...", "Group health plan (also see ...) means ...".
_DEFINITION = re.compile(
    r"^(?P<term>[A-Z][A-Za-z0-9&'’/\- ]{0,70}?)(?:\s+\([^()]*\))?"
    r"(?::\s|\s+(?:means|is defined|stands for|refers to|is information|exists if)\b)"
)
_RESERVED = re.compile(r"^\[?Reserved\.?\]?$", re.IGNORECASE)


def _value(kind: str, marker: str) -> int | None:
    """The ordinal of ``marker`` read as ``kind``, or None if it cannot be one."""
    if kind == "digit":
        return int(marker) if marker.isdigit() else None
    if kind == "lower":
        return ord(marker) - ord("a") + 1 if len(marker) == 1 and marker.islower() else None
    if kind == "upper":
        return ord(marker) - ord("A") + 1 if len(marker) == 1 and marker.isupper() else None
    if kind == "roman":
        return _ROMAN.get(marker)
    if kind == "upperroman":
        return _ROMAN.get(marker.lower()) if marker.isupper() else None
    return None


@dataclass
class _Node:
    step: str
    kinds: tuple[str, ...]  # the level scheme that applies below this node
    depth: int  # index into kinds of this node's own level (-1: section, term)
    ordinal: int = 0
    text: list[str] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    is_term: bool = False

    def heads_definitions(self) -> bool:
        """True for a paragraph such as "(a) Definitions. As used in this section:"."""
        return bool(self.text) and self.text[0].lower().startswith("definitions")


@dataclass(frozen=True)
class OutlineParagraph:
    """A lowest paragraph: its path under the section, text, and parents' lead-ins."""

    path: tuple[str, ...]
    text: str
    context: tuple[str, ...]


def definition_term(paragraph: str) -> str | None:
    """The term a definition paragraph defines, or None if it is not one."""
    m = _DEFINITION.match(paragraph)
    if not m or paragraph.startswith("("):
        return None
    term = m.group("term").strip()
    # A sentence such as "A covered entity may ..." is not a definition: terms are short.
    return term if len(term.split()) <= 8 else None


class _Builder:
    def __init__(self, levels: tuple[str, ...], definitions: bool) -> None:
        self.root = _Node(step="", kinds=levels, depth=-1)
        self.stack: list[_Node] = [self.root]
        self.definitions = definitions

    # -- placing markers -------------------------------------------------------------
    def _candidates(self, marker: str) -> list[tuple[int, int, str, int]]:
        """(stack index of the parent, depth, kind, ordinal) for every legal reading."""
        out: list[tuple[int, int, str, int]] = []
        for idx in range(len(self.stack) - 1, -1, -1):
            node = self.stack[idx]
            # Sibling: ``node`` sits at some level; the marker continues that level.
            if idx > 0 and not node.is_term and node.depth >= 0:
                kind = node.kinds[node.depth]
                ordinal = _value(kind, marker)
                if ordinal is not None and ordinal == node.ordinal + 1:
                    out.append((idx - 1, node.depth, kind, ordinal))
        top = self.stack[-1]
        child_depth = top.depth + 1
        if child_depth < len(top.kinds):
            kind = top.kinds[child_depth]
            ordinal = _value(kind, marker)
            # Normally a list starts at its first value; a fragment (an excerpt, a section
            # whose first paragraphs are reserved) may start later, but only as the very
            # first child, so "(2)" in the middle of text never opens a list.
            if ordinal == 1 or (ordinal is not None and not top.children and not out):
                out.append((len(self.stack) - 1, child_depth, kind, ordinal))
        return out

    def _gap_candidates(self, marker: str) -> list[tuple[int, int, str, int]]:
        """Siblings that skip values: excerpts and renderings that omit reserved paragraphs.

        Only tried when no strict reading exists, and only the deepest such reading.
        """
        for idx in range(len(self.stack) - 1, 0, -1):
            node = self.stack[idx]
            if node.is_term or node.depth < 0:
                continue
            kind = node.kinds[node.depth]
            ordinal = _value(kind, marker)
            if ordinal is not None and ordinal > node.ordinal + 1:
                return [(idx - 1, node.depth, kind, ordinal)]
        return []

    def _choose(self, marker: str, following: list[str]) -> tuple[int, int, str, int] | None:
        options = self._candidates(marker)
        if not options:
            options = self._gap_candidates(marker)
        if len(options) <= 1:
            return options[0] if options else None
        # Ambiguous: try each reading and keep the one the next marker agrees with.
        for option in sorted(options, key=lambda o: -o[1]):
            if following and self._next_fits(option, following[0]):
                return option
        return max(options, key=lambda o: o[1])  # the deepest reading, as drafters nest

    def _next_fits(self, option: tuple[int, int, str, int], nxt: str) -> bool:
        parent_idx, depth, kind, ordinal = option
        kinds = self.stack[parent_idx].kinds
        if _value(kind, nxt) == ordinal + 1:
            return True
        return depth + 1 < len(kinds) and _value(kinds[depth + 1], nxt) == 1

    def open(self, marker: str, following: list[str]) -> bool:
        choice = self._choose(marker, following)
        if choice is None:
            return False
        parent_idx, depth, _kind, ordinal = choice
        del self.stack[parent_idx + 1 :]
        parent = self.stack[-1]
        node = _Node(step=marker, kinds=parent.kinds, depth=depth, ordinal=ordinal)
        parent.children.append(node)
        self.stack.append(node)
        return True

    def open_term(self, term: str, kinds: tuple[str, ...]) -> None:
        # A definition sits where the definitions list is: at the section, or under
        # "(a) Definitions." in sections such as 164.504.
        while len(self.stack) > 1 and (
            self.stack[-1].is_term or not self.stack[-1].heads_definitions()
        ):
            self.stack.pop()
        parent = self.stack[-1]
        node = _Node(step=term_step(term), kinds=kinds, depth=-1, is_term=True)
        parent.children.append(node)
        self.stack.append(node)

    def add_inline(self, text: str, following: list[str]) -> None:
        """Add a paragraph's text, opening the children or siblings that start inline.

        Only a marker that is the current paragraph's first child or next sibling is
        taken, so "as described in paragraph (2) of this section" never splits.
        """
        while True:
            found = None
            for m in _INLINE.finditer(text):
                choice = self._choose(m.group(1), following)
                if choice and choice[0] >= len(self.stack) - 2:
                    found = m
                    break
            if found is None:
                self.add_text(text)
                return
            self.add_text(text[: found.start()].strip())
            self.open(found.group(1), following)
            text = text[found.end() :]

    def add_text(self, text: str) -> None:
        if text:
            self.stack[-1].text.append(text)


def _split_markers(paragraph: str) -> tuple[list[str], str]:
    """``"(e)(1) Standard: ... (i) The ..."`` → (["e", "1"], rest of the text)."""
    markers: list[str] = []
    rest = paragraph
    while True:
        m = _LEADING.match(rest)
        if not m:
            return markers, rest
        markers.append(m.group(1))
        rest = rest[m.end() :]


def _leading_marker(paragraph: str) -> str | None:
    m = _LEADING.match(paragraph)
    return m.group(1) if m else None


def build_outline(
    paragraphs: list[str] | tuple[str, ...], *, usc: bool = False, definitions: bool = False
) -> list[OutlineParagraph]:
    """Place every paragraph of a section in the outline and return the leaves.

    ``definitions`` says the section is a list of definitions (160.103, 164.103,
    164.501): an unmarked paragraph starting with a term opens that term.  Inside
    other sections a term is opened only under a paragraph headed "Definitions".
    """
    levels = USC_LEVELS if usc else CFR_LEVELS
    term_levels = levels[1:]  # a definition's paragraphs are numbered (1), (i), (A)
    b = _Builder(levels, definitions)
    paras = [" ".join(p.split()) for p in paragraphs if p.strip()]
    for i, para in enumerate(paras):
        following = [m for m in (_leading_marker(p) for p in paras[i + 1 : i + 3]) if m]
        if _RANGE.match(para):
            # "(b)-(d) [Reserved]": nothing to cite, but the next marker continues from (d).
            first, last = _RANGE.match(para).groups()  # type: ignore[union-attr]
            if b.open(first, following):
                node = b.stack[-1]
                node.ordinal = _value(node.kinds[node.depth], last) or node.ordinal
                node.text.append("[Reserved]")
            continue
        markers, rest = _split_markers(para)
        term = None if markers else definition_term(para)
        if term and (definitions or any(n.heads_definitions() for n in b.stack)):
            b.open_term(term, term_levels)
        elif markers:
            placed = False
            for j, marker in enumerate(markers):
                ahead = markers[j + 1 :] + following
                if b.open(marker, ahead):
                    placed = True
                else:
                    # Not a legal marker here: it is text that happens to start with "(".
                    rest = "".join(f"({x})" for x in markers[j:]) + " " + rest
                    break
            if not placed:
                b.add_text(para)
                continue
        else:
            b.add_text(para)
            continue
        b.add_inline(rest.strip(), following)
    return _leaves(b.root)


def _join(pieces: list[str]) -> str:
    """Join a paragraph's pieces; a U.S. Code heading such as "In general" gets a dash."""
    out = ""
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        if out and not out.endswith((".", ":", ";", ",", "—", "-")):
            out += " —"
        out = f"{out} {piece}" if out else piece
    return out


def _leaves(root: _Node) -> list[OutlineParagraph]:
    out: list[OutlineParagraph] = []

    def walk(node: _Node, path: tuple[str, ...], context: tuple[str, ...]) -> None:
        text = _join(node.text)
        if not node.children:
            if text and not _RESERVED.match(text):
                out.append(OutlineParagraph(path, text, context))
            return
        inner = context + ((text,) if text else ())
        for child in node.children:
            walk(child, (*path, child.step), inner)

    walk(root, (), ())
    return out
