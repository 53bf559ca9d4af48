"""Plain words → :class:`Facts`, deterministically, from the patterns in ``corpus/lexicon.yaml``.

Not a bag of keywords: each pattern is matched inside one clause, and a negation
cue earlier in that clause ("no one pays us", "not for marketing", "we never
share") turns the match into a *no*.  Patterns that state the absence of a fact
outright ("unpaid", "free of charge") live in the lexicon as ``negative`` patterns.
Where a description says a fact both ways, the *yes* wins, so the rules see a
possibility that can require authorization; facts whose *yes* removes a protection
(de-identified, face to face) are marked ``no_wins`` in the lexicon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from app.models import Fact, Facts, State
from indexer.errors import TpoError

DEFAULT_LEXICON = Path(__file__).resolve().parents[1] / "corpus" / "lexicon.yaml"

# Clauses end at sentence punctuation and at contrastive or coordinating links: a
# negation in "we do not sell the list, but the maker pays for postage" must not
# reach "pays".
_CLAUSE_SPLIT = re.compile(
    r"(?<=[.;!?])\s+|\s*;\s*|,?\s+\b(?:but|however|although|though|whereas|while|"
    r"and then|except that|yet|instead)\b\s*|,\s+(?=(?:and|or)\s)|\s+—\s+|\s+-\s+",
    re.IGNORECASE,
)


class LexiconError(TpoError):
    """corpus/lexicon.yaml is malformed or names a fact the rules do not know."""


@dataclass(frozen=True)
class Entry:
    fact: str
    provision: str
    positive: tuple[re.Pattern[str], ...]
    negative: tuple[re.Pattern[str], ...]
    unaffected_by_negation: bool
    no_wins: bool


@dataclass(frozen=True)
class Lexicon:
    entries: tuple[Entry, ...]
    negation: re.Pattern[str]
    expansions: tuple[tuple[re.Pattern[str], str], ...]
    window: int

    def provision(self, fact: str) -> str:
        for e in self.entries:
            if e.fact == fact:
                return e.provision
        return ""


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise LexiconError(f"{where}: bad pattern {pattern!r}: {exc}") from exc


@lru_cache(maxsize=4)
def load_lexicon(path: Path = DEFAULT_LEXICON) -> Lexicon:
    try:
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: cannot read the lexicon ({exc})") from exc
    known = set(Facts.names())
    entries = []
    for name, spec in data["facts"].items():
        where = f"{path}: fact {name!r}"
        if name not in known:
            raise LexiconError(f"{where} is not a field of Facts", "Fix the name or add the fact.")
        if not spec.get("provision"):
            raise LexiconError(f"{where} names no provision", "Every entry cites what it serves.")
        entries.append(
            Entry(
                fact=name,
                provision=spec["provision"],
                positive=tuple(_compile(p, where) for p in spec.get("patterns", [])),
                negative=tuple(_compile(p, where) for p in spec.get("negative", [])),
                unaffected_by_negation=bool(spec.get("unaffected_by_negation", False)),
                no_wins=bool(spec.get("no_wins", False)),
            )
        )
    # "ME" is the medical examiner, "me" is not: abbreviations in capitals match only so.
    expansions = tuple(
        (
            re.compile(rf"\b{re.escape(short)}\b", 0 if short != short.lower() else re.IGNORECASE),
            long,
        )
        for short, long in data.get("jargon", {}).items()
    )
    cues = "|".join(data["negation"]["cues"])
    return Lexicon(
        entries=tuple(entries),
        negation=_compile(rf"\b(?:{cues})\b", f"{path}: negation cues"),
        expansions=expansions,
        window=int(data["negation"].get("window_words", 6)),
    )


def expand_jargon(text: str, lexicon: Lexicon) -> str:
    """Append the plain meaning after staff abbreviations: "BAA" → "BAA business associate
    agreement", so the patterns need to know each term only once."""
    for pattern, meaning in lexicon.expansions:
        # Plain words, no brackets: the patterns then read "DME durable medical equipment
        # company" as they would read the words themselves.
        text = pattern.sub(lambda m: f"{m.group(0)} {meaning}", text)  # noqa: B023
    return text


def clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE_SPLIT.split(text) if c and c.strip()]


def _negated(clause: str, start: int, lexicon: Lexicon) -> bool:
    """A negation cue within the ``window`` words before the match, in the same clause."""
    before = clause[:start].split()
    return bool(lexicon.negation.search(" ".join(before[-lexicon.window :])))


def extract_facts(description: str, lexicon: Lexicon | None = None) -> Facts:
    """The facts a description states, each with the clause that states it."""
    lexicon = lexicon or load_lexicon()
    text = expand_jargon(" ".join(description.split()), lexicon)
    parts = clauses(text)
    found: dict[str, Fact] = {}
    for entry in lexicon.entries:
        yes: list[str] = []
        no: list[str] = []
        for clause in parts:
            if any(p.search(clause) for p in entry.negative):
                no.append(clause)
                continue
            for pattern in entry.positive:
                m = pattern.search(clause)
                if m is None:
                    continue
                if not entry.unaffected_by_negation and _negated(clause, m.start(), lexicon):
                    no.append(clause)
                else:
                    yes.append(clause)
                break
        if no and (entry.no_wins or not yes):
            found[entry.fact] = Fact("no", tuple(dict.fromkeys(no)))
        elif yes:
            found[entry.fact] = Fact("yes", tuple(dict.fromkeys(yes)))
    cost = _compare_money(parts)
    if cost is not None:
        found["remuneration_cost_only"] = cost  # figures beat words
    lapsed = _lapsed_too_long(parts)
    if lapsed is not None:
        found["currently_prescribed"] = lapsed
    return Facts(**found)


_LAPSE = re.compile(
    r"\b(ran out|run out|lapsed|expired|stopped|ended|last (filled|refilled|fill|refill))\b.{0,30}?"
    r"(?P<a>\d+)\s*(?:to|-|–)?\s*(?P<b>\d+)?\s*(?P<unit>days?|weeks?|months?|years?|yrs?)",
    re.IGNORECASE,
)
_DRUG = re.compile(
    r"\b(prescriptions?|rx|refills?|medications?|meds?|drugs?|pills|inhalers?|insulin|"
    r"biologics?|statins?|doses?)\b",
    re.IGNORECASE,
)
_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365, "yr": 365}


def _lapsed_too_long(parts: list[str]) -> Fact | None:
    """OCR treats a prescription lapsed within the last 90 days as still current for the
    refill-reminder exception (FAQ 1515); a longer lapse is not "currently prescribed"."""
    for clause in parts:
        m = _LAPSE.search(clause)
        if not m or not _DRUG.search(clause):
            continue
        unit = m.group("unit").lower().rstrip("s")
        days = int(m.group("b") or m.group("a")) * _DAYS[unit]
        return Fact("no" if days > 90 else "yes", (clause,))
    return None


_AMOUNT = re.compile(
    r"\$\s?(?P<dollars>\d[\d,]*(?:\.\d+)?)\s*(?P<scale>k\b|thousand|million)?"
    r"|(?P<cents>\d+(?:\.\d+)?)\s*cents?\b",
    re.IGNORECASE,
)
_PAID_WORDS = re.compile(
    r"\b(pay|pays|paid|paying|offer\w*|reimburs\w*|fund\w*|give|gives|fee|stipend|grant|bonus|"
    r"per (letter|reminder|text|mailer|message|call|name|record|chart|abstract|unit))\b",
    re.IGNORECASE,
)
_COST_WORDS = re.compile(
    r"\b(cost|costs|costing|postage|printing|expense|expenses|to (pull|print|send|mail|prepare))\b",
    re.IGNORECASE,
)


def _dollars(m: re.Match[str]) -> float:
    if m.group("cents"):
        return float(m.group("cents")) / 100
    value = float(m.group("dollars").replace(",", ""))
    scale = (m.group("scale") or "").lower()
    return value * (1000 if scale in ("k", "thousand") else 1_000_000 if scale == "million" else 1)


def _compare_money(parts: list[str]) -> Fact | None:
    """When a description gives both what is paid and what the communication or data costs,
    the figures decide whether the payment is "reasonably related to the cost"
    (164.501 "marketing" (2)(i); a cost-based fee, 164.502(a)(5)(ii)(B)(2)(ii))."""
    paid: list[tuple[float, str]] = []
    cost: list[tuple[float, str]] = []
    for clause in parts:
        for m in _AMOUNT.finditer(clause):
            around = clause[max(0, m.start() - 50) : m.end() + 30]
            value = _dollars(m)
            if _COST_WORDS.search(around):
                cost.append((value, clause))
            elif _PAID_WORDS.search(around):
                paid.append((value, clause))
    if not paid or not cost:
        return None
    top_paid, top_cost = max(paid), max(cost)
    # A margin of a quarter allows for rounding in how staff state costs.
    state: State = "yes" if top_paid[0] <= top_cost[0] * 1.25 else "no"
    return Fact(state, tuple(dict.fromkeys((top_paid[1], top_cost[1]))))
