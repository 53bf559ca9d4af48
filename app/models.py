"""The classifier's contracts: labels, facts, and the rules' verdict.

``Facts`` is what the rules read: every fact is *yes*, *no* or *unknown*, and a
yes or no carries the words of the description that set it, so a privacy
officer can see why the tool believes what it believes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, Literal


class Category(StrEnum):
    """The label set of LABELS.md; every part of the product speaks exactly these."""

    TREATMENT = "treatment"
    PAYMENT = "payment"
    HEALTH_CARE_OPERATIONS = "health_care_operations"
    MARKETING = "marketing"
    SALE_OF_PHI = "sale_of_phi"
    RESEARCH = "research"
    PSYCHOTHERAPY_NOTES = "psychotherapy_notes"
    PUBLIC_INTEREST = "public_interest"
    INDIVIDUAL_INVOLVEMENT = "individual_involvement"
    TO_INDIVIDUAL = "to_individual"
    DE_IDENTIFIED = "de_identified"


State = Literal["yes", "no", "unknown"]


@dataclass(frozen=True)
class Fact:
    """One fact about the activity: its state and the words that set it."""

    state: State = "unknown"
    evidence: tuple[str, ...] = ()

    @property
    def yes(self) -> bool:
        return self.state == "yes"

    @property
    def no(self) -> bool:
        return self.state == "no"

    @property
    def known(self) -> bool:
        return self.state != "unknown"


UNKNOWN = Fact()


@dataclass(frozen=True)
class Facts:
    """What decides a case.  Field names are the fact names of ``corpus/lexicon.yaml``."""

    # Who acts and who receives.
    actor_provider: Fact = UNKNOWN
    actor_health_plan: Fact = UNKNOWN
    actor_business_associate: Fact = UNKNOWN
    to_other_provider: Fact = UNKNOWN
    to_health_plan: Fact = UNKNOWN
    to_business_associate: Fact = UNKNOWN
    to_third_party: Fact = UNKNOWN
    to_employer: Fact = UNKNOWN
    to_individual: Fact = UNKNOWN
    to_personal_representative: Fact = UNKNOWN
    to_family_friends: Fact = UNKNOWN
    to_public_authority: Fact = UNKNOWN
    # What flows.
    psychotherapy_notes: Fact = UNKNOWN
    mental_health_record: Fact = UNKNOWN
    de_identified: Fact = UNKNOWN
    limited_data_set: Fact = UNKNOWN
    # Purposes.
    treatment: Fact = UNKNOWN
    payment: Fact = UNKNOWN
    quality_improvement: Fact = UNKNOWN
    population_case_management: Fact = UNKNOWN
    competence_review: Fact = UNKNOWN
    training: Fact = UNKNOWN
    accreditation: Fact = UNKNOWN
    underwriting: Fact = UNKNOWN
    genetic_information: Fact = UNKNOWN
    medical_review_legal_audit: Fact = UNKNOWN
    business_planning: Fact = UNKNOWN
    business_management: Fact = UNKNOWN
    customer_service: Fact = UNKNOWN
    grievances: Fact = UNKNOWN
    merger_sale_of_entity: Fact = UNKNOWN
    create_deidentified: Fact = UNKNOWN
    create_limited_data_set: Fact = UNKNOWN
    fundraising: Fact = UNKNOWN
    research: Fact = UNKNOWN
    generalizable_knowledge: Fact = UNKNOWN
    irb_waiver: Fact = UNKNOWN
    decedent_research: Fact = UNKNOWN
    preparatory_to_research: Fact = UNKNOWN
    originator_use: Fact = UNKNOWN
    data_use_agreement: Fact = UNKNOWN
    required_by_law: Fact = UNKNOWN
    public_health: Fact = UNKNOWN
    abuse_neglect: Fact = UNKNOWN
    health_oversight: Fact = UNKNOWN
    judicial: Fact = UNKNOWN
    law_enforcement: Fact = UNKNOWN
    decedents: Fact = UNKNOWN
    organ_donation: Fact = UNKNOWN
    serious_threat: Fact = UNKNOWN
    government_functions: Fact = UNKNOWN
    workers_compensation: Fact = UNKNOWN
    directory: Fact = UNKNOWN
    family_involvement: Fact = UNKNOWN
    disaster_notification: Fact = UNKNOWN
    individual_request: Fact = UNKNOWN
    # The communication.
    communication: Fact = UNKNOWN
    promotes_product: Fact = UNKNOWN
    third_party_product: Fact = UNKNOWN
    own_product: Fact = UNKNOWN
    currently_prescribed: Fact = UNKNOWN
    alternative_treatment: Fact = UNKNOWN
    plan_benefits: Fact = UNKNOWN
    face_to_face: Fact = UNKNOWN
    nominal_gift: Fact = UNKNOWN
    # Money.
    remuneration: Fact = UNKNOWN
    remuneration_cost_only: Fact = UNKNOWN
    remuneration_for_phi: Fact = UNKNOWN
    discloses_data: Fact = UNKNOWN

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def known(self) -> dict[str, Fact]:
        return {name: getattr(self, name) for name in self.names() if getattr(self, name).known}

    def to_json(self) -> dict[str, dict[str, Any]]:
        return {
            name: {"state": fact.state, "evidence": list(fact.evidence)}
            for name, fact in self.known().items()
        }


@dataclass(frozen=True)
class Obligation:
    """A duty that comes with the answer, with the provision that imposes it."""

    text: str
    citation: str

    def to_json(self) -> dict[str, str]:
        return {"text": self.text, "citation": self.citation}


@dataclass(frozen=True)
class TraceStep:
    """One rule that fired: which rule, on which facts, with what effect."""

    rule: str
    citation: str
    facts: tuple[str, ...]
    outcome: str

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "citation": self.citation,
            "facts": list(self.facts),
            "outcome": self.outcome,
        }


@dataclass(frozen=True)
class RuleVerdict:
    """What the rules decided and why.

    ``status`` is ``decided`` or ``insufficient_facts``; in the latter case the
    category is the rules' best reading and ``questions`` says what to ask.
    """

    category: Category
    authorization_required: bool
    citations: tuple[str, ...]
    status: Literal["decided", "insufficient_facts"]
    trace: tuple[TraceStep, ...]
    obligations: tuple[Obligation, ...] = ()
    operations_paragraph: str | None = None
    questions: tuple[str, ...] = ()
    facts: Facts = field(default_factory=Facts)

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category.value,
            "authorization_required": self.authorization_required,
            "status": self.status,
            "citations": list(self.citations),
            "operations_paragraph": self.operations_paragraph,
            "obligations": [o.to_json() for o in self.obligations],
            "clarifying_questions": list(self.questions),
            "trace": [t.to_json() for t in self.trace],
            "facts": self.facts.to_json(),
        }


@dataclass(frozen=True)
class CitedPassage:
    """A citation that reached the user: the provision, the passage it rests on, a quote."""

    citation: str
    passage_id: str
    quote: str
    text: str
    kind: str
    as_of: str
    url: str
    source: str  # "rules" or "llm"

    def to_json(self) -> dict[str, Any]:
        return {
            "citation": self.citation,
            "passage_id": self.passage_id,
            "quote": self.quote,
            "text": self.text,
            "kind": self.kind,
            "as_of": self.as_of,
            "url": self.url,
            "source": self.source,
        }


Status = Literal["confirmed", "needs_review", "insufficient_facts"]


@dataclass(frozen=True)
class Determination:
    """The answer: the contract for the web app, the evaluation and the audit trail."""

    category: Category
    authorization_required: bool
    status: Status
    citations: tuple[CitedPassage, ...]
    rationale: str
    obligations: tuple[Obligation, ...]
    clarifying_questions: tuple[str, ...]
    operations_paragraph: str | None
    rules: RuleVerdict
    precedents: tuple[dict[str, Any], ...]
    llm: dict[str, Any] | None
    agreement: dict[str, Any]
    corpus_version: str
    timings_ms: dict[str, float]
    dropped_citations: int = 0
    flags: tuple[str, ...] = ()
    retrieved: tuple[str, ...] = ()  # every passage put before the LLM, by reference
    # What may be stored: the description with its identifiers replaced, and what was
    # replaced (kinds and placeholders, never the values).
    scrubbed_description: str = ""
    redactions: tuple[dict[str, Any], ...] = ()
    redaction_summary: str = ""
    retrieved_scores: tuple[dict[str, Any], ...] = ()
    model_id: dict[str, str | None] = field(default_factory=dict)
    rules_version: str = ""
    prompt_hash: str | None = None
    # Things the user must see: the LLM did not answer, the text was shortened, …
    notices: tuple[str, ...] = ()
    # What an authorization must contain, when one is required (164.508(c)).
    authorization_contents: tuple[Obligation, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category.value,
            "authorization_required": self.authorization_required,
            "status": self.status,
            "citations": [c.to_json() for c in self.citations],
            "rationale": self.rationale,
            "obligations": [o.to_json() for o in self.obligations],
            "clarifying_questions": list(self.clarifying_questions),
            "operations_paragraph": self.operations_paragraph,
            "rules": {
                "category": self.rules.category.value,
                "authorization_required": self.rules.authorization_required,
                "status": self.rules.status,
                "citations": list(self.rules.citations),
                "trace": [t.to_json() for t in self.rules.trace],
                "facts": self.rules.facts.to_json(),
            },
            "precedents": list(self.precedents),
            "llm": self.llm,
            "agreement": self.agreement,
            "corpus_version": self.corpus_version,
            "timings_ms": self.timings_ms,
            "dropped_citations": self.dropped_citations,
            "flags": list(self.flags),
            "retrieved": list(self.retrieved),
            "scrubbed_description": self.scrubbed_description,
            "redactions": list(self.redactions),
            "redaction_summary": self.redaction_summary,
            "retrieved_scores": list(self.retrieved_scores),
            "model_id": self.model_id,
            "rules_version": self.rules_version,
            "prompt_hash": self.prompt_hash,
            "notices": list(self.notices),
            "authorization_contents": [o.to_json() for o in self.authorization_contents],
        }
