"""One cross-checked, cited answer: rules, retrieval, precedents and an LLM.

The policy that turns three opinions into one answer (also in the README):

1. The rules' verdict stands when it is decided, that is when the facts that decide
   it were found in the description.  Precedents or a trusted LLM that disagree make
   the status ``needs_review``, and the answers are shown side by side.
2. When the rules lack a deciding fact, the status is ``insufficient_facts`` with the
   clarifying questions; the category shown is the strongest other opinion (close
   precedents, then a trusted LLM), or else the rules' partial reading.  When no rule
   recognises the activity at all, weaker precedents may name the category, but the
   authorization the rules then require stands unless a weighty opinion says otherwise.
3. When in doubt, authorization wins: if an opinion with real weight (strong
   precedents, a trusted LLM) says authorization is required and the answer would
   say it is not, the answer says it is.  A wrong "no authorization needed" is the
   costliest error this tool can make.
4. The embedded model's category is recorded and shown, never decisive: its trust
   weight is below every threshold.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from app.authorization import authorization_contents
from app.facts import extract_facts
from app.guard import screen
from app.inputs import clean, for_llm
from app.llm import LLMAnswer, LLMBackend, prompt
from app.models import Category, CitedPassage, Determination, RuleVerdict, Status
from app.precedents import PrecedentStore, Vote, vote
from app.retrieval import Retrieval, Retriever
from app.rules import decide
from app.scrub import PLACEHOLDER, residual, scrub
from app.versioning import rules_version
from indexer.errors import CitationError, TpoError, UserInputError
from indexer.models import Citation

WEIGHTY = 0.5  # an opinion this strong can put an answer under review or require authorization
# When no rule recognises the activity at all, close precedents are the best evidence of
# what it is; they name the category from this strength, but only a WEIGHTY opinion may
# lift the authorization requirement the rules impose when nothing is known.
FALLBACK = 0.25
T = TypeVar("T")


@dataclass
class Pipeline:
    retriever: Retriever
    precedents: PrecedentStore | None = None
    llm: LLMBackend | None = None
    embedder_id: str = ""

    def classify(self, description: str) -> Determination:
        cleaned = clean(description)
        timings: dict[str, float] = {}
        start = time.perf_counter()

        def timed(stage: str, fn: Callable[[], T]) -> T:
            t = time.perf_counter()
            out = fn()
            timings[stage] = round((time.perf_counter() - t) * 1000, 2)
            return out

        screened = screen(cleaned.text)
        text = screened.text or cleaned.text
        notices = list(cleaned.notices)
        # Identifiers of 164.514(b)(2) are replaced before the text goes anywhere that may
        # keep it: the LLM, the audit trail, a reviewer's ruling.  The rules alone, pure and
        # in this process, read the words as typed.
        scrubbed = timed("scrub", lambda: scrub(text))
        if not _has_substance(scrubbed.text):
            raise UserInputError(
                "the description holds only identifiers "
                f"({scrubbed.summary() or 'nothing else'}) and no activity to classify",
                "Say what is to be done with the information, and by whom, e.g. "
                "'send her records to the cardiologist treating her'. Identifiers are "
                "not needed.",
            )
        verdict = timed("rules", lambda: decide(extract_facts(text)))
        neighbours = timed(
            "precedents",
            lambda: self.precedents.nearest(scrubbed.text) if self.precedents else [],
        )
        pvote = vote(neighbours)
        in_play = [verdict.category.value, *([pvote.category] if pvote.category else [])]
        retrieval = timed(
            "retrieval",
            lambda: self.retriever.retrieve(scrubbed.text, _rule_provisions(verdict), in_play),
        )
        flags = list(screened.flags)
        answer, llm_error, prompt_hash = self._consult_llm(scrubbed.text, retrieval, notices, timed)
        cited, dropped, llm_json = self._citations(verdict, retrieval, answer)
        if (
            answer
            and screened.requested_category
            and (answer.category.value == screened.requested_category != verdict.category.value)
        ):
            flags.append("the LLM followed an instruction inside the description")
        category, auth, status, agreement = self._cross_check(verdict, pvote, answer)
        timings["total"] = round((time.perf_counter() - start) * 1000, 2)
        llm_info = None
        if self.llm is not None:
            llm_info = {
                "backend": self.llm.name,
                "model": self.llm.model,
                "trust": self.llm.trust,
                **(llm_json or {}),
                **({"error": llm_error} if llm_error else {}),
            }
        return Determination(
            category=category,
            authorization_required=auth,
            status=status,
            citations=tuple(cited),
            rationale=self._rationale(verdict, answer),
            obligations=verdict.obligations if category == verdict.category else (),
            clarifying_questions=verdict.questions,
            operations_paragraph=verdict.operations_paragraph
            if category == verdict.category
            else None,
            rules=verdict,
            precedents=tuple(p.to_json() for p in neighbours),
            llm=llm_info,
            agreement=agreement,
            corpus_version=retrieval.version,
            timings_ms=timings,
            dropped_citations=dropped,
            flags=tuple(flags),
            retrieved=tuple(r.passage.ref for r in retrieval.passages),
            scrubbed_description=scrubbed.text,
            redactions=tuple(r.to_json() for r in scrubbed.redactions),
            redaction_summary=scrubbed.summary(),
            retrieved_scores=tuple(
                {"ref": r.passage.ref, "pid": r.pid, "score": round(r.score, 6), "reason": r.reason}
                for r in retrieval.passages
            ),
            model_id={
                "embedder": self.embedder_id,
                "llm": f"{self.llm.name}:{self.llm.model}" if self.llm else None,
            },
            rules_version=rules_version(),
            prompt_hash=prompt_hash,
            notices=tuple(notices),
            authorization_contents=authorization_contents(category, auth),
        )

    # -- the LLM: only scrubbed text, only when nothing identifying is left ----------------
    def _consult_llm(
        self,
        text: str,
        retrieval: Retrieval,
        notices: list[str],
        timed: Callable[[str, Callable[[], LLMAnswer]], LLMAnswer],
    ) -> tuple[LLMAnswer | None, str | None, str | None]:
        """The LLM's answer, its error, and the hash of the prompt sent; every reason the
        answer comes from the rules alone is added to ``notices``."""
        if self.llm is None:
            return None, None, None
        llm = self.llm
        llm_text, shortened = for_llm(text)
        if shortened:
            notices.append(shortened)
        left = residual(llm_text)
        if left:
            notices.append(
                f"The description was not sent to the LLM: the residual check still found "
                f"{', '.join(sorted(left))} after scrubbing. This answer comes from the rules "
                "and similar cases alone."
            )
            return None, "identifiers remained after scrubbing: " + ", ".join(sorted(left)), None
        prompt_hash = _prompt_hash(llm_text, retrieval)
        try:
            return timed("llm", lambda: llm.answer(llm_text, retrieval.passages)), None, prompt_hash
        except TpoError as exc:
            error = exc.user_message()
        except Exception as exc:  # a backend's failure must not lose the rules' answer
            error = f"{type(exc).__name__}: {exc}"
        notices.append(
            f"The LLM ({llm.name}) did not answer ({error.splitlines()[0]}). This answer comes "
            "from the rules and similar cases alone."
        )
        return None, error, prompt_hash

    # -- citations: only retrieved passages, only verbatim quotes --------------------------
    def _citations(
        self, verdict: RuleVerdict, retrieval: Retrieval, answer: LLMAnswer | None
    ) -> tuple[list[CitedPassage], int, dict[str, Any] | None]:
        by_pid = retrieval.by_pid()
        out: list[CitedPassage] = []
        seen: set[str] = set()
        for text in _rule_provisions(verdict):
            try:
                cite = Citation.parse(text)
            except CitationError:
                continue
            for r in retrieval.passages:
                p = r.passage
                if p.citation is None or not cite.matches(p.citation) or p.ref in seen:
                    continue
                if len(p.citation.path) > len(cite.path) and p.context:
                    # The rule cites a parent paragraph: show its own words, then the first
                    # paragraph below it, both verbatim.
                    out.append(
                        CitedPassage(
                            text,
                            r.pid,
                            "",
                            f"{p.context[-1]} … {p.text}",
                            p.kind.value,
                            p.as_of,
                            p.page_url,
                            "rules",
                        )
                    )
                else:
                    out.append(_cited(r.pid, p, "", "rules"))
                seen.add(p.ref)
                break
        if answer is None:
            return out, 0, None
        dropped = 0
        valid_pids = []
        for pid in answer.citations:
            if pid not in by_pid:
                dropped += 1
                continue
            valid_pids.append(pid)
        good_quotes = []
        for quote in answer.quotes:
            home = next(
                (pid for pid in valid_pids if _verbatim(quote, by_pid[pid].passage.text)), None
            )
            if home is None:
                dropped += 1
            else:
                good_quotes.append((home, quote))
        for pid in valid_pids:
            p = by_pid[pid].passage
            quote = next((q for h, q in good_quotes if h == pid), "")
            if p.ref not in seen:
                out.append(_cited(pid, p, quote, "llm"))
                seen.add(p.ref)
        llm_json = {
            "category": answer.category.value,
            "authorization_required": answer.authorization_required,
            "citations": valid_pids,
            "quotes": [q for _h, q in good_quotes],
            "rationale": answer.rationale,
        }
        return out, dropped, llm_json

    # -- the policy of the module docstring --------------------------------------------------
    def _cross_check(
        self, verdict: RuleVerdict, pvote: Vote, answer: LLMAnswer | None
    ) -> tuple[Category, bool, Status, dict[str, Any]]:
        opinions: list[tuple[str, str, bool | None, float]] = []
        if pvote.category is not None:
            opinions.append(
                ("precedents", pvote.category, pvote.authorization_required, pvote.strength)
            )
        if answer is not None and self.llm is not None:
            opinions.append(
                ("llm", answer.category.value, answer.authorization_required, self.llm.trust)
            )
        weighty = [o for o in opinions if o[3] >= WEIGHTY]
        if verdict.status == "decided":
            category, auth = verdict.category, verdict.authorization_required
            status: Status = "confirmed"
            if any(o[1] != category.value for o in weighty):
                status = "needs_review"
        else:
            status = "insufficient_facts"
            nothing_known = verdict.trace[-1].rule == "no_rule_applies"
            usable = [o for o in opinions if o[3] >= (FALLBACK if nothing_known else WEIGHTY)]
            category, auth = verdict.category, verdict.authorization_required
            if usable:
                best = max(usable, key=lambda o: o[3])
                category = Category(best[1])
                if best[2] is not None and (best[3] >= WEIGHTY or best[2]):
                    auth = bool(best[2])
        if not auth and any(o[2] for o in weighty):
            auth = True  # when in doubt, authorization wins
            if status == "confirmed":
                status = "needs_review"
        agreement = {
            "rules": {
                "category": verdict.category.value,
                "authorization_required": verdict.authorization_required,
                "agrees": verdict.category == category,
            },
            **{
                name: {
                    "category": cat,
                    "authorization_required": a,
                    "weight": round(w, 4),
                    "agrees": cat == category.value,
                }
                for name, cat, a, w in opinions
            },
        }
        return category, auth, status, agreement

    def _rationale(self, verdict: RuleVerdict, answer: LLMAnswer | None) -> str:
        steps = "; ".join(f"{t.outcome} ({t.citation})" for t in verdict.trace)
        text = f"Rules: {steps}."
        if answer is not None and answer.rationale.strip():
            text += f" Model's reading: {answer.rationale.strip()}"
        return text


def _rule_provisions(verdict: RuleVerdict) -> list[str]:
    """The provisions the verdict cites, then those its trace names (the rationale quotes
    them, so the reader must be able to open them too)."""
    return list(dict.fromkeys([*verdict.citations, *(t.citation for t in verdict.trace)]))


def _has_substance(scrubbed: str) -> bool:
    """Whether anything but placeholders and punctuation is left to classify."""
    rest = PLACEHOLDER.sub(" ", scrubbed)
    return len(re.findall(r"[^\W\d_]{3,}", rest)) >= 2


def _prompt_hash(text: str, retrieval: Retrieval) -> str:
    """The hash of exactly what the LLM was sent, for the audit trail."""
    messages = prompt(text, retrieval.passages)
    body = "\n\n".join(f"{m.type}: {m.content}" for m in messages)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _cited(pid: str, p: Any, quote: str, source: str) -> CitedPassage:
    return CitedPassage(
        citation=p.ref,
        passage_id=pid,
        quote=quote,
        text=p.text,
        kind=p.kind.value,
        as_of=p.as_of,
        url=p.page_url,
        source=source,
    )


def _verbatim(quote: str, text: str) -> bool:
    def norm(s: str) -> str:
        return re.sub(r"\s+", " ", s).strip().lower()

    q = norm(quote)
    return len(q) >= 8 and q in norm(text)
