"""Classify a document as the activity it carries out, and show which words decided it.

A refill-reminder letter *is* a communication about a drug sent by the pharmacy to its
patients; a data-sharing agreement *is* a disclosure to the company that pays.  So the
document goes through the same pipeline as a description — facts, rules, precedents,
LLM — with the user's optional one-line context ("the manufacturer pays the printing")
added, because who pays is often not in the document itself.

The pipeline reports the clauses that set each fact; a reviewer needs to see them *in the
document* to edit that paragraph and re-check.  So the text the pipeline sees is built
from segments that remember where they came from, and each evidence clause is found
again there and mapped back to offsets in ``Document.text`` (or in the context line).

When authorization is required, the answer lists what a valid authorization must contain
(45 CFR 164.508(c), and the remuneration statements of 164.508(a)(3)(ii) and (a)(4)) from
``corpus/authorization.yaml``, each item with its citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.authorization import (
    AUTHORIZATION_FILE,
    AuthorizationFileError,
    Requirement,
    authorization_contents,
    load_authorization,
)
from app.documents import Document, email_body_span, email_field_span
from app.facts import load_lexicon
from app.models import Determination
from app.pipeline import Pipeline


@dataclass(frozen=True)
class Evidence:
    """Words that set a fact: ``text`` is ``document.text[start:end]``, or the context
    line's ``[start:end]`` when ``in_context``."""

    fact: str
    state: str
    start: int
    end: int
    text: str
    in_context: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "fact": self.fact,
            "state": self.state,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "in_context": self.in_context,
        }


@dataclass(frozen=True)
class DocumentResult:
    document: Document
    context: str | None
    determination: Determination
    evidence: tuple[Evidence, ...]
    authorization_contents: tuple[Requirement, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document.to_json(),
            "context": self.context,
            "determination": self.determination.to_json(),
            "evidence": [e.to_json() for e in self.evidence],
            "authorization_contents": [r.to_json() for r in self.authorization_contents],
        }


def classify_document(
    pipeline: Pipeline, doc: Document, context: str | None = None
) -> DocumentResult:
    context = (context or "").strip() or None
    view = PipelineText.build(doc, context)
    det = pipeline.classify(view.text)
    evidence: list[Evidence] = []
    for name, fact in det.rules.facts.known().items():
        for clause in fact.evidence:
            for start, end, in_context in view.locate(clause):
                source = (context or "") if in_context else doc.text
                evidence.append(
                    Evidence(name, fact.state, start, end, source[start:end], in_context)
                )
    evidence.sort(key=lambda e: (e.in_context, e.start, e.fact))
    return DocumentResult(
        document=doc,
        context=context,
        determination=det,
        evidence=tuple(evidence),
        authorization_contents=det.authorization_contents,
    )


# -- the text the pipeline sees, and the way back ----------------------------------------------
@dataclass(frozen=True)
class _Segment:
    start: int  # in the pipeline text
    end: int
    origin: int | None  # offset in the document (or the context); None: words tpo-check added
    in_context: bool = False


@dataclass(frozen=True)
class PipelineText:
    """The text handed to the pipeline, and where each stretch of it came from."""

    text: str
    segments: tuple[_Segment, ...]

    @classmethod
    def build(cls, doc: Document, context: str | None) -> PipelineText:
        parts: list[tuple[str, int | None, bool]] = []
        if doc.kind == "email":
            # "From X to Y, subject Z: body": the message read as the activity it is.
            for label, header in (("From ", "from"), (" to ", "to"), (", subject ", "subject")):
                span = email_field_span(doc, header)
                if span is not None:
                    parts += [(label.lstrip(" ,") if not parts else label, None, False)]
                    parts += [(doc.text[span[0] : span[1]], span[0], False)]
            body = email_body_span(doc)
            parts += [
                (": " if parts else "", None, False),
                (doc.text[body[0] : body[1]], body[0], False),
            ]
            att = email_field_span(doc, "attachments")
            if att is not None:
                parts += [(_sentence_end(parts) + "Attached: ", None, False)]
                parts += [(doc.text[att[0] : att[1]], att[0], False)]
        else:
            parts.append((doc.text, 0, False))
        if context:
            # A sentence of its own: the context must not run into the document's last clause.
            parts += [(_sentence_end(parts) + "\n\n", None, False), (context, 0, True)]
        text = ""
        segments: list[_Segment] = []
        for piece, origin, in_context in parts:
            if piece:
                segments.append(_Segment(len(text), len(text) + len(piece), origin, in_context))
                text += piece
        return cls(text, tuple(segments))

    def locate(self, clause: str) -> list[tuple[int, int, bool]]:
        """Every place ``clause`` (as the fact extractor reported it) came from: (start, end,
        in_context) in the document or the context line."""
        spans = _find(self.text, _unexpand(clause))
        found: list[tuple[int, int, bool]] = []
        for s, e in spans:
            for piece in self._back(s, e):
                if piece not in found:
                    found.append(piece)
        return found

    def _back(self, start: int, end: int) -> list[tuple[int, int, bool]]:
        """Map [start, end) of the pipeline text back, one piece per source (document, context)."""
        pieces: dict[bool, tuple[int, int]] = {}
        for seg in self.segments:
            if seg.origin is None or seg.end <= start or seg.start >= end:
                continue
            s = seg.origin + max(start, seg.start) - seg.start
            e = seg.origin + min(end, seg.end) - seg.start
            old = pieces.get(seg.in_context)
            pieces[seg.in_context] = (min(old[0], s), max(old[1], e)) if old else (s, e)
        return [(s, e, ctx) for ctx, (s, e) in sorted(pieces.items())]


def _sentence_end(parts: list[tuple[str, int | None, bool]]) -> str:
    last = next((p for p, _o, _c in reversed(parts) if p.strip()), "")
    return "" if re.search(r"[.!?;:]\s*$", last) or not last else "."


def _unexpand(clause: str) -> str:
    """Undo the jargon expansion of app/facts.py ("BAA" → "BAA business associate agreement"),
    so the clause reads as the document does."""
    for pattern, meaning in reversed(load_lexicon().expansions):
        clause = re.sub(
            f"({pattern.pattern}) {re.escape(meaning)}", r"\1", clause, flags=pattern.flags
        )
    return clause


_WORD = re.compile(r"\w+")


def _find(text: str, clause: str) -> list[tuple[int, int]]:
    """Spans of ``text`` holding ``clause``, whitespace and case aside; failing that, the
    span where the clause's words appear in order with few gaps (a sentence that the
    screening step dropped from between two others)."""
    words = clause.split()
    if not words:
        return []
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)
    spans = [(m.start(), m.end()) for m in pattern.finditer(text)]
    if spans:
        return spans
    want = [w.lower() for w in _WORD.findall(clause)]
    have = [(m.group(0).lower(), m.start(), m.end()) for m in _WORD.finditer(text)]
    if not want:
        return []
    for i, (word, start, _end) in enumerate(have):
        if word != want[0]:
            continue
        j, k, last = i, 0, i
        while k < len(want) and j < len(have) and j - last <= 3:
            if have[j][0] == want[k]:
                last, k = j, k + 1
            j += 1
        if k >= 0.8 * len(want):
            return [(start, have[last][2])]
    return []


__all__ = [
    "AUTHORIZATION_FILE",
    "AuthorizationFileError",
    "DocumentResult",
    "Evidence",
    "Requirement",
    "authorization_contents",
    "classify_document",
    "load_authorization",
]
