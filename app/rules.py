"""The Privacy Rule as code: pure functions over :class:`Facts`.

Each rule states its legal condition in its docstring and carries the provision
it applies.  Rules are tried in order; the first that decides the case wins.
The order is the regulation's own precedence: what needs an authorization
whatever its purpose (psychotherapy notes 164.508(a)(2), sale 164.508(a)(4),
marketing 164.508(a)(3)) is tested before the permissions that would otherwise
cover the same activity (164.506, 164.510, 164.512), because 164.506(a) permits
treatment, payment and operations only "except with respect to uses or
disclosures that require an authorization under § 164.508(a)(2) through (4)".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from app.models import Category, Facts, Obligation, RuleVerdict, TraceStep

C = Category


@dataclass(frozen=True)
class Finding:
    """What one rule concludes."""

    category: Category
    authorization_required: bool
    citations: tuple[str, ...]
    facts: tuple[str, ...]
    outcome: str
    operations_paragraph: str | None = None
    questions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    name: str
    citation: str
    decide: Callable[[Facts], Finding | None]

    @property
    def condition(self) -> str:
        return (self.decide.__doc__ or "").strip()


_CITATIONS: dict[str, str] = {}


def rule(
    citation: str,
) -> Callable[[Callable[[Facts], Finding | None]], Callable[..., Finding | None]]:
    """Attach to a rule the provision it applies; the order of rules is set in RULES below."""

    def register(fn: Callable[[Facts], Finding | None]) -> Callable[[Facts], Finding | None]:
        _CITATIONS[fn.__name__] = citation
        return fn

    return register


def _yes(f: Facts, *names: str) -> tuple[str, ...]:
    return tuple(n for n in names if getattr(f, n).yes)


# ---- questions, worded for the staff who asked --------------------------------------
Q_PAID = (
    "Does anyone outside your organization (a manufacturer, vendor or other third party) "
    "pay you, directly or indirectly, for making this communication?"
)
Q_WHOSE = (
    "Whose product or service does the communication describe: your organization's own, "
    "or a third party's?"
)
Q_COST = (
    "Is the payment limited to your cost of making the communication (postage, printing, "
    "staff time), or is it more than that?"
)
Q_WAIVER = (
    "Has an IRB or privacy board approved a waiver of authorization, or will the data be "
    "a limited data set released under a data use agreement?"
)
Q_DUA = "Will the recipient sign a data use agreement meeting 45 CFR 164.514(e)(4)?"
Q_PURPOSE = (
    "Who will use or receive the information, and for what purpose (care of a patient, "
    "billing, internal operations, a communication, research, a legal or government "
    "request)?"
)
Q_NOTES = (
    "Are these the therapist's separate notes of counseling sessions, or records kept in "
    "the medical record (diagnosis, medications, session times, progress summaries)?"
)
Q_PRODUCT = (
    "Does the communication encourage recipients to buy or use a product or service, and "
    "if so whose?"
)


# ---- authorization regardless of purpose -----------------------------------------------
@rule("45 CFR 164.508(a)(2)")
def psychotherapy_notes(f: Facts) -> Finding | None:
    """A use or disclosure of psychotherapy notes needs the individual's authorization, except
    the originator's own use for treatment, the covered entity's supervised training programs,
    its defence in a legal action brought by the individual, and uses required by law, by health
    oversight of the originator, by a coroner, or to avert a serious threat
    (164.508(a)(2)(i)-(ii))."""
    if not f.psychotherapy_notes.yes:
        return None
    cites = ('45 CFR 164.501 "psychotherapy notes"', "45 CFR 164.508(a)(2)")
    exceptions = _yes(f, "required_by_law", "health_oversight", "decedents", "serious_threat")
    defends = f.medical_review_legal_audit.yes and any(
        "defen" in e.lower() for e in f.medical_review_legal_audit.evidence
    )
    if exceptions:
        return Finding(
            C.PSYCHOTHERAPY_NOTES,
            False,
            (*cites, "45 CFR 164.508(a)(2)(ii)"),
            ("psychotherapy_notes", *exceptions),
            "psychotherapy notes, for a purpose 164.508(a)(2)(ii) excepts",
        )
    if f.originator_use.yes:
        return Finding(
            C.PSYCHOTHERAPY_NOTES,
            False,
            (*cites, "45 CFR 164.508(a)(2)(i)(A)"),
            ("psychotherapy_notes", "originator_use"),
            "the originator's own use of the notes for treatment",
        )
    if f.training.yes and not f.to_third_party.yes:
        return Finding(
            C.PSYCHOTHERAPY_NOTES,
            False,
            (*cites, "45 CFR 164.508(a)(2)(i)(B)"),
            ("psychotherapy_notes", "training"),
            "psychotherapy notes in the entity's own supervised training program",
        )
    if defends:
        return Finding(
            C.PSYCHOTHERAPY_NOTES,
            False,
            (*cites, "45 CFR 164.508(a)(2)(i)(C)"),
            ("psychotherapy_notes", "medical_review_legal_audit"),
            "the entity defends itself in a legal action brought by the individual",
        )
    return Finding(
        C.PSYCHOTHERAPY_NOTES,
        True,
        cites,
        ("psychotherapy_notes",),
        "psychotherapy notes leave the originator: authorization required",
    )


def _formally_de_identified(f: Facts) -> bool:
    """De-identified by one of 164.514(b)'s two methods, not merely summarised: analyses made
    from PHI for a plan sponsor are customer service, paragraph (6)(ii), unless so certified."""
    return any(
        re.search(r"safe[- ]harbor|expert|statistician|certif|de-?identified", e, re.I)
        for e in f.de_identified.evidence
    )


@rule("45 CFR 164.514(a)")
def already_de_identified(f: Facts) -> Finding | None:
    """Health information de-identified under 164.514(a)-(b) (Safe Harbor or expert
    determination) is not protected health information; the Privacy Rule does not govern its
    use or disclosure (164.502(d)(2))."""
    if (
        not f.de_identified.yes
        or f.create_deidentified.yes
        or f.create_limited_data_set.yes
        or f.limited_data_set.yes  # a limited data set is still PHI
        or (f.customer_service.yes and not _formally_de_identified(f))
    ):
        return None
    return Finding(
        C.DE_IDENTIFIED,
        False,
        ("45 CFR 164.514(a)", "45 CFR 164.502(d)(2)"),
        ("de_identified",),
        "the data are already de-identified: not PHI",
    )


@rule("45 CFR 164.502(a)(5)(ii)(A)")
def sale_of_phi(f: Facts) -> Finding | None:
    """A disclosure of PHI for which the covered entity receives remuneration, directly or
    indirectly, from or on behalf of the recipient is a sale of PHI and needs an authorization
    that states the remuneration (164.502(a)(5)(ii); 164.508(a)(4)).  Excepted: the sale or merger
    of the covered entity itself, public health and required-by-law disclosures, and a reasonable
    cost-based fee for research or the individual's own copy (164.502(a)(5)(ii)(B)(2))."""
    communicates = f.communication.yes or f.face_to_face.yes or f.promotes_product.yes
    # Paid while PHI goes out to the payer (not to a business associate working for us).
    paid_and_handed_over = (
        f.remuneration.yes
        and f.discloses_data.yes
        and (f.to_third_party.yes or f.research.yes or not communicates)
        and not f.to_business_associate.yes
    )
    paid_for_data = (
        f.remuneration_for_phi.yes
        or paid_and_handed_over
        or (f.remuneration.yes and (f.limited_data_set.yes or f.research.yes) and not communicates)
    )
    if not paid_for_data or f.merger_sale_of_entity.yes:
        return None
    if f.public_health.yes or f.required_by_law.yes:
        return None  # public health and required-by-law disclosures are not sales
    if f.remuneration_cost_only.yes and (
        f.research.yes or f.limited_data_set.yes or f.to_individual.yes
    ):
        return None  # a reasonable cost-based fee for research or a copy is not a sale
    return Finding(
        C.SALE_OF_PHI,
        True,
        ("45 CFR 164.502(a)(5)(ii)(A)", "45 CFR 164.508(a)(4)(i)"),
        _yes(f, "remuneration_for_phi", "remuneration", "to_third_party"),
        "PHI disclosed in exchange for remuneration: a sale",
    )


@rule('45 CFR 164.501 "marketing" (2)(i)')
def refill_reminder(f: Facts) -> Finding | None:
    """A communication about a drug or biologic currently prescribed for the individual (refill
    reminders, adherence, generics, lapsed within 90 days) is not marketing if any remuneration
    received for it is reasonably related to the cost of making it: it is treatment."""
    if not (
        f.currently_prescribed.yes
        and (f.communication.yes or f.promotes_product.yes or f.remuneration.yes)
    ):
        return None
    if f.remuneration.yes and not f.remuneration_cost_only.yes:
        return None  # paid beyond cost: the marketing rules below decide
    cites = ('45 CFR 164.501 "marketing" (2)(i)', '45 CFR 164.501 "treatment"')
    questions = (Q_COST,) if f.remuneration.yes and not f.remuneration_cost_only.known else ()
    return Finding(
        C.TREATMENT,
        False,
        cites,
        _yes(f, "currently_prescribed", "remuneration", "remuneration_cost_only"),
        "about a drug currently prescribed, paid no more than its cost: not marketing",
        questions=questions,
    )


def _is_promotion(f: Facts) -> bool:
    """A communication about a product or service: the subject of the marketing definition."""
    communicates = f.communication.yes or f.face_to_face.yes or f.nominal_gift.yes
    about_product = (
        f.promotes_product.yes
        or f.third_party_product.yes
        or f.own_product.yes
        or f.plan_benefits.yes
        or f.currently_prescribed.yes
        or f.remuneration.yes
    )
    return communicates and about_product


def _marketing(
    f: Facts, why: str, basis: tuple[str, ...], questions: tuple[str, ...] = ()
) -> Finding:
    """Marketing needs authorization unless made face to face by the covered entity or by a
    promotional gift of nominal value it provides (164.508(a)(3)(i)(A)-(B))."""
    cites = ['45 CFR 164.501 "marketing" (1)', "45 CFR 164.508(a)(3)(i)"]
    if f.remuneration.yes:
        cites += ['45 CFR 164.501 "marketing" (3)', "45 CFR 164.508(a)(3)(ii)"]
    if f.face_to_face.yes:
        return Finding(
            C.MARKETING,
            False,
            (*cites, "45 CFR 164.508(a)(3)(i)(A)"),
            (*basis, "face_to_face"),
            f"{why}; made face to face: no authorization",
        )
    if f.nominal_gift.yes:
        return Finding(
            C.MARKETING,
            False,
            (*cites, "45 CFR 164.508(a)(3)(i)(B)"),
            (*basis, "nominal_gift"),
            f"{why}; a gift of nominal value: no authorization",
        )
    return Finding(
        C.MARKETING,
        True,
        tuple(cites),
        basis,
        f"{why}: authorization required",
        questions=questions,
    )


@rule('45 CFR 164.501 "marketing" (2)(ii)')
def paid_communication(f: Facts) -> Finding | None:
    """A communication about a product or service that encourages its purchase or use is
    marketing when the covered entity receives financial remuneration for it from the third
    party whose product is described; the treatment and operations exceptions of paragraph
    (2)(ii) do not apply to paid communications."""
    if not (_is_promotion(f) or f.alternative_treatment.yes) or not f.remuneration.yes:
        return None
    return _marketing(
        f,
        "a paid communication about a product or service",
        _yes(f, "communication", "promotes_product", "third_party_product", "remuneration"),
    )


@rule('45 CFR 164.501 "marketing" (2)(ii)(A)')
def treatment_communication(f: Facts) -> Finding | None:
    """Unpaid communications for the treatment of an individual, case management or care
    coordination for the individual, or recommending alternative treatments, therapies,
    providers or settings of care are not marketing: they are treatment."""
    if not f.alternative_treatment.yes or f.remuneration.yes:
        return None
    questions = () if f.remuneration.known else (Q_PAID,)
    return Finding(
        C.TREATMENT,
        False,
        ('45 CFR 164.501 "marketing" (2)(ii)(A)', '45 CFR 164.501 "treatment"'),
        ("alternative_treatment",),
        "treatment alternatives for the patient, unpaid",
        questions=questions,
    )


@rule('45 CFR 164.501 "marketing" (2)(ii)(B)')
def own_product_communication(f: Facts) -> Finding | None:
    """Unpaid communications describing a health-related product or service of the covered
    entity itself, or included in its plan of benefits (its network, plan changes, value-added
    services only for enrollees), are not marketing: they are health care operations."""
    own = f.own_product.yes or f.plan_benefits.yes
    # A plan's value-added services and participating providers are offers of third parties
    # that paragraph (2)(ii)(B) still covers; any other third party's product is marketing.
    if not own or (f.third_party_product.yes and not f.plan_benefits.yes) or f.remuneration.yes:
        return None
    questions = () if f.remuneration.known else (Q_PAID,)
    return Finding(
        C.HEALTH_CARE_OPERATIONS,
        False,
        ('45 CFR 164.501 "marketing" (2)(ii)(B)', '45 CFR 164.501 "health care operations" (1)'),
        _yes(f, "own_product", "plan_benefits"),
        "the entity's own services or plan benefits, unpaid: not marketing",
        operations_paragraph="(1)",
        questions=questions,
    )


@rule('45 CFR 164.501 "marketing" (1)')
def other_promotion(f: Facts) -> Finding | None:
    """Any other communication about a product or service that encourages recipients to buy or
    use it is marketing: a third party's product promoted without payment is still marketing."""
    if not _is_promotion(f):
        return None
    questions: tuple[str, ...] = ()
    if not f.third_party_product.yes:
        questions = (Q_WHOSE,) + (() if f.remuneration.known else (Q_PAID,))
    return _marketing(
        f,
        "a communication encouraging the purchase or use of a product or service",
        _yes(f, "communication", "promotes_product", "third_party_product"),
        questions,
    )


# ---- fundraising and research ---------------------------------------------------------
@rule("45 CFR 164.514(f)(1)")
def fundraising(f: Facts) -> Finding | None:
    """Using demographic information, dates and departments of service, treating physician,
    outcome and insurance status to raise funds for the covered entity's own benefit is a health
    care operation, provided each communication offers a clear opt-out (164.514(f))."""
    if not f.fundraising.yes or f.organ_donation.yes:
        return None
    return Finding(
        C.HEALTH_CARE_OPERATIONS,
        False,
        ('45 CFR 164.501 "health care operations" (6)(v)', "45 CFR 164.514(f)(1)"),
        ("fundraising",),
        "fundraising for the covered entity",
        "(6)(v)",
    )


@rule('45 CFR 164.501 "research"')
def research(f: Facts) -> Finding | None:
    """Research, a systematic investigation designed to contribute to generalizable knowledge,
    needs authorization (164.508) unless an IRB or privacy board waives it (164.512(i)(1)(i)), it
    is a review preparatory to research or research on decedents (164.512(i)(1)(ii)-(iii)), or
    the data are a limited data set under a data use agreement (164.514(e)).  Quality
    improvement not designed for generalizable knowledge is an operation instead."""
    if not (f.research.yes or f.generalizable_knowledge.yes or f.irb_waiver.yes):
        return None
    # Quality improvement stays inside; a study whose data go to outside researchers does not.
    said_research = (
        f.irb_waiver.yes
        or f.discloses_data.yes
        or f.data_use_agreement.yes
        or any(
            re.search(
                r"research|\birb\b|institutional review|protocol|retrospective|trial", e, re.I
            )
            for e in f.research.evidence
        )
    )
    if f.quality_improvement.yes and not f.generalizable_knowledge.yes and not said_research:
        return None  # "a study of our readmission rates" is quality improvement
    if f.quality_improvement.yes and f.generalizable_knowledge.no:
        return None
    basis = _yes(f, "research", "generalizable_knowledge")
    cite = '45 CFR 164.501 "research"'
    if f.limited_data_set.yes:
        # A limited data set needs a data use agreement, not an authorization.
        return Finding(
            C.RESEARCH,
            False,
            (cite, "45 CFR 164.514(e)(1)", "45 CFR 164.514(e)(4)(i)"),
            (*basis, *_yes(f, "limited_data_set", "data_use_agreement")),
            "research on a limited data set under a data use agreement",
        )
    if f.irb_waiver.yes:
        return Finding(
            C.RESEARCH,
            False,
            (cite, "45 CFR 164.512(i)(1)(i)"),
            (*basis, "irb_waiver"),
            "research under an IRB or privacy board waiver",
        )
    if f.preparatory_to_research.yes:
        return Finding(
            C.RESEARCH,
            False,
            (cite, "45 CFR 164.512(i)(1)(ii)"),
            (*basis, "preparatory_to_research"),
            "a review preparatory to research; nothing leaves the premises",
        )
    if f.decedent_research.yes:
        return Finding(
            C.RESEARCH,
            False,
            (cite, "45 CFR 164.512(i)(1)(iii)"),
            (*basis, "decedent_research"),
            "research on decedents' information",
        )
    return Finding(
        C.RESEARCH,
        True,
        (cite, "45 CFR 164.508(a)(1)"),
        basis,
        "research without a waiver: authorization required",
    )


# ---- permitted without authorization: 164.512 ------------------------------------------
_PUBLIC = (
    ("required_by_law", "45 CFR 164.512(a)(1)"),
    ("abuse_neglect", "45 CFR 164.512(c)(1)"),
    ("serious_threat", "45 CFR 164.512(j)(1)(i)"),
    ("workers_compensation", "45 CFR 164.512(l)"),
    ("organ_donation", "45 CFR 164.512(h)"),
    ("decedents", "45 CFR 164.512(g)(1)"),
    ("judicial", "45 CFR 164.512(e)(1)"),
    ("law_enforcement", "45 CFR 164.512(f)(1)"),
    ("health_oversight", "45 CFR 164.512(d)(1)"),
    ("government_functions", "45 CFR 164.512(k)(1)(i)"),
    ("public_health", "45 CFR 164.512(b)(1)(i)"),
)


@rule("45 CFR 164.512")
def public_interest(f: Facts) -> Finding | None:
    """Disclosures required by law, for public health, about abuse or neglect, for health
    oversight, judicial proceedings, law enforcement, about decedents, for organ donation, to
    avert a serious threat, for specialized government functions and for workers' compensation
    are permitted without authorization, each on the conditions of its paragraph of 164.512."""
    hits = [(name, cite) for name, cite in _PUBLIC if getattr(f, name).yes]
    if not hits:
        return None
    return Finding(
        C.PUBLIC_INTEREST,
        False,
        tuple(c for _n, c in hits),
        tuple(n for n, _c in hits),
        "a disclosure 164.512 permits for a public purpose",
    )


@rule("45 CFR 164.510")
def individual_involvement(f: Facts) -> Finding | None:
    """Listing a patient in a facility directory, sharing information with family members or
    friends involved in the patient's care or payment, and notifying them of the patient's
    location or condition are permitted if the patient has the opportunity to agree or object."""
    hits = _yes(f, "directory", "family_involvement", "disaster_notification", "to_family_friends")
    if f.to_family_friends.no:
        hits = (*hits, "to_family_friends")  # the patient objects: still a 164.510 question
    if not hits:
        return None
    cites = []
    if f.directory.yes:
        cites.append("45 CFR 164.510(a)(1)")
    if f.family_involvement.yes or f.to_family_friends.yes:
        cites.append("45 CFR 164.510(b)(1)(i)")
    if f.disaster_notification.yes:
        cites.append("45 CFR 164.510(b)(1)(ii)")
    return Finding(
        C.INDIVIDUAL_INVOLVEMENT,
        False,
        tuple(cites),
        hits,
        "involvement of family or friends, or the directory: the patient may object",
    )


@rule("45 CFR 164.502(a)(1)(i)")
def to_the_individual(f: Facts) -> Finding | None:
    """A disclosure to the individual, or to a personal representative who stands in the
    individual's place, is permitted; the right of access requires it on request (164.524)."""
    hits = _yes(f, "to_individual", "individual_request", "to_personal_representative")
    if not hits:
        return None
    cites = ["45 CFR 164.502(a)(1)(i)", "45 CFR 164.524(a)(1)"]
    if f.to_personal_representative.yes:
        cites.append("45 CFR 164.502(g)(1)")
    return Finding(C.TO_INDIVIDUAL, False, tuple(cites), hits, "to the individual")


# ---- treatment, payment and operations: 164.506 ----------------------------------------
@rule('45 CFR 164.501 "health care operations" (6)(v)')
def creating_de_identified_data(f: Facts) -> Finding | None:
    """Creating de-identified information or a limited data set from PHI is a business
    management activity of the covered entity, consistent with 164.514."""
    hits = _yes(f, "create_deidentified", "create_limited_data_set")
    if not hits:
        return None
    return Finding(
        C.HEALTH_CARE_OPERATIONS,
        False,
        ('45 CFR 164.501 "health care operations" (6)(v)', "45 CFR 164.514(b)"),
        hits,
        "creating de-identified data or a limited data set",
        "(6)(v)",
    )


@rule("45 CFR 164.506(c)")
def treatment(f: Facts) -> Finding | None:
    """Providing, coordinating or managing health care, consultation between providers and
    referral are treatment, permitted without authorization (164.506(c)(1)-(2))."""
    if not (f.treatment.yes or f.to_other_provider.yes):
        return None
    # Its own treatment is (c)(1); a disclosure for another provider's treatment is (c)(2).
    permits = "45 CFR 164.506(c)(2)" if f.to_other_provider.yes else "45 CFR 164.506(c)(1)"
    return Finding(
        C.TREATMENT,
        False,
        ('45 CFR 164.501 "treatment"', permits),
        _yes(f, "treatment", "to_other_provider"),
        "care of a patient: treatment",
    )


@rule("45 CFR 164.506(c)")
def payment(f: Facts) -> Finding | None:
    """Obtaining premiums, determining coverage and eligibility, billing, claims, collection and
    utilization review are payment, permitted without authorization (164.506(c)(1), (3))."""
    if not f.payment.yes:
        return None
    return Finding(
        C.PAYMENT,
        False,
        ('45 CFR 164.501 "payment"', "45 CFR 164.506(c)(1)"),
        ("payment",),
        "obtaining or providing payment for care: payment",
    )


# Operations whose words name the purpose itself.  They are tested before payment and
# treatment, whose words ("claims", "nursing notes") often only describe the records used.
_PURPOSE_OPERATIONS = (
    ("underwriting", "(3)"),
    ("merger_sale_of_entity", "(6)(iv)"),
    ("competence_review", "(2)"),
    ("accreditation", "(2)"),
    ("grievances", "(6)(iii)"),
    ("medical_review_legal_audit", "(4)"),
    ("training", "(2)"),
    ("customer_service", "(6)(ii)"),
    ("business_planning", "(5)"),
    ("quality_improvement", "(1)"),
)
_OTHER_OPERATIONS = (
    ("population_case_management", "(1)"),
    ("business_management", "(6)"),
)
_OPERATIONS = _PURPOSE_OPERATIONS + _OTHER_OPERATIONS


def _to_another_covered_entity(f: Facts) -> bool:
    return f.to_other_provider.yes or f.to_health_plan.yes


def _operations_permit(f: Facts) -> str:
    """Its own operations are permitted by 164.506(c)(1); a disclosure to another covered
    entity for that entity's operations only by (c)(4), under its conditions."""
    return "45 CFR 164.506(c)(4)" if _to_another_covered_entity(f) else "45 CFR 164.506(c)(1)"


def _operation(f: Facts, table: tuple[tuple[str, str], ...]) -> Finding | None:
    for name, paragraph in table:
        if not getattr(f, name).yes:
            continue
        if (
            name == "medical_review_legal_audit"
            and f.payment.yes
            and (f.actor_health_plan.yes or f.to_health_plan.yes)
        ):
            continue  # a plan reviewing the claims it pays is doing payment, 164.501 (2)(iv)
        return Finding(
            C.HEALTH_CARE_OPERATIONS,
            False,
            (f'45 CFR 164.501 "health care operations" {paragraph}', _operations_permit(f)),
            (name,),
            f"a health care operation, paragraph {paragraph}",
            paragraph,
        )
    return None


@rule('45 CFR 164.501 "health care operations"')
def operations_by_purpose(f: Facts) -> Finding | None:
    """Underwriting, the sale or merger of the entity, competence and credentialing reviews,
    accreditation, grievances, legal services and audits, training, customer service for plan
    sponsors, business planning and quality improvement are health care operations (paragraphs
    (1)-(6) of the definition), permitted for the covered entity's own operations
    (164.506(c)(1))."""
    return _operation(f, _PURPOSE_OPERATIONS)


@rule('45 CFR 164.501 "health care operations"')
def operations(f: Facts) -> Finding | None:
    """Population-based activities and business management and general administration are
    health care operations (paragraphs (1) and (6) of the definition), permitted for the entity's
    own operations (164.506(c)(1))."""
    return _operation(f, _OTHER_OPERATIONS)


# ---- the verdict -------------------------------------------------------------------------
def obligations(f: Facts, finding: Finding) -> tuple[Obligation, ...]:
    """The duties that come with the answer, each with the provision that imposes it."""
    out: list[Obligation] = []
    cat = finding.category
    if cat is C.TREATMENT and f.to_other_provider.yes:
        out.append(
            Obligation(
                "Minimum necessary does not apply to disclosures to a provider for treatment.",
                "45 CFR 164.502(b)(2)(i)",
            )
        )
    elif (
        cat
        in (
            C.PAYMENT,
            C.HEALTH_CARE_OPERATIONS,
            C.PUBLIC_INTEREST,
            C.RESEARCH,
            C.INDIVIDUAL_INVOLVEMENT,
            C.TREATMENT,
        )
        and not finding.authorization_required
    ):
        out.append(
            Obligation(
                "Use or disclose only the minimum necessary for the purpose.",
                "45 CFR 164.502(b)(1)",
            )
        )
    if finding.authorization_required:
        out.append(
            Obligation(
                "Obtain a valid written authorization with the core elements and "
                "statements of 164.508(c).",
                "45 CFR 164.508(c)(1)",
            )
        )
    if cat is C.MARKETING and f.remuneration.yes and finding.authorization_required:
        out.append(
            Obligation(
                "The authorization must state that remuneration is involved.",
                "45 CFR 164.508(a)(3)(ii)",
            )
        )
    if cat is C.SALE_OF_PHI:
        out.append(
            Obligation(
                "The authorization must state that the disclosure will result in remuneration.",
                "45 CFR 164.508(a)(4)(ii)",
            )
        )
    if f.fundraising.yes and cat is C.HEALTH_CARE_OPERATIONS:
        out.append(
            Obligation(
                "Give a clear and conspicuous opportunity to opt out of further "
                "fundraising communications with each one.",
                "45 CFR 164.514(f)(2)(ii)",
            )
        )
        out.append(
            Obligation(
                "The notice of privacy practices must say fundraising communications may be sent.",
                "45 CFR 164.514(f)(2)(i)",
            )
        )
    if cat is C.HEALTH_CARE_OPERATIONS and _to_another_covered_entity(f):
        out.append(
            Obligation(
                "To another covered entity for its operations only if both have or had a "
                "relationship with the individual, the PHI pertains to it, and the purpose is "
                "in paragraph (1) or (2) of the definition, or fraud and abuse detection.",
                "45 CFR 164.506(c)(4)",
            )
        )
    if f.to_business_associate.yes or f.actor_business_associate.yes:
        out.append(
            Obligation(
                "A business associate agreement must be in place before PHI goes to the vendor.",
                "45 CFR 164.502(e)(1)(i)",
            )
        )
    if (
        cat is C.HEALTH_CARE_OPERATIONS
        and finding.operations_paragraph == "(3)"
        and (f.genetic_information.yes or f.genetic_information.state == "unknown")
    ):
        out.append(
            Obligation(
                "A health plan may not use or disclose genetic information for underwriting.",
                "45 CFR 164.502(a)(5)(i)",
            )
        )
    if cat is C.PUBLIC_INTEREST:
        out.append(
            Obligation(
                "Record the disclosure for the individual's accounting of disclosures.",
                "45 CFR 164.528(a)(1)",
            )
        )
        out.append(
            Obligation(
                "Verify the identity and authority of the person requesting.",
                "45 CFR 164.514(h)(1)(i)",
            )
        )
    if cat is C.INDIVIDUAL_INVOLVEMENT:
        out.append(
            Obligation(
                "Give the patient the opportunity to agree or object first, when present and able.",
                "45 CFR 164.510(b)(2)",
            )
        )
    if cat is C.TO_INDIVIDUAL:
        out.append(Obligation("Act on an access request within 30 days.", "45 CFR 164.524(b)(2)"))
    if cat is C.RESEARCH and not finding.authorization_required and f.irb_waiver.yes:
        out.append(
            Obligation("Keep the documentation of the waiver approval.", "45 CFR 164.512(i)(2)")
        )
    if cat in (C.PAYMENT, C.HEALTH_CARE_OPERATIONS) and f.to_health_plan.yes:
        out.append(
            Obligation(
                "Honor a restriction the patient requested on disclosures to a "
                "health plan for care paid in full out of pocket.",
                "45 CFR 164.522(a)(1)(vi)",
            )
        )
    if cat in (C.TREATMENT, C.PAYMENT, C.HEALTH_CARE_OPERATIONS, C.MARKETING):
        out.append(
            Obligation(
                "Use and disclose consistently with your notice of privacy practices.",
                "45 CFR 164.502(i)",
            )
        )
    return tuple(out)


# Precedence.  Authorization-only uses come first, because 164.506(a) permits treatment,
# payment and operations "except with respect to uses or disclosures that require an
# authorization under § 164.508(a)(2) through (4)"; the marketing exclusions of paragraph (2)
# of the definition are tested before marketing itself; research and the public-interest
# permissions of 164.512 before the individual's own access and involvement; and the
# permissions of 164.506 last, purposes before records.
RULES: tuple[Rule, ...] = tuple(
    Rule(fn.__name__, _CITATIONS[fn.__name__], fn)
    for fn in (
        psychotherapy_notes,
        already_de_identified,
        sale_of_phi,
        refill_reminder,
        paid_communication,
        treatment_communication,
        own_product_communication,
        other_promotion,
        fundraising,
        research,
        public_interest,
        to_the_individual,
        individual_involvement,
        creating_de_identified_data,
        operations_by_purpose,
        payment,
        treatment,
        operations,
    )
)


def decide(f: Facts) -> RuleVerdict:
    """Apply the rules in order; the first that decides the case gives the verdict."""
    trace: list[TraceStep] = []
    for r in RULES:
        finding = r.decide(f)
        if finding is None:
            continue
        trace.append(TraceStep(r.name, r.citation, finding.facts, finding.outcome))
        status: Literal["decided", "insufficient_facts"] = (
            "insufficient_facts" if finding.questions else "decided"
        )
        return RuleVerdict(
            category=finding.category,
            authorization_required=finding.authorization_required,
            citations=finding.citations,
            status=status,
            trace=tuple(trace),
            obligations=obligations(f, finding),
            operations_paragraph=finding.operations_paragraph,
            questions=finding.questions,
            facts=f,
        )
    # Nothing decided the case.  Until someone says what the activity is, the safe reading
    # is the one that requires authorization (164.508(a)(1)).
    trace.append(
        TraceStep(
            "no_rule_applies",
            "45 CFR 164.508(a)(1)",
            (),
            "no purpose the rules recognise: ask before disclosing",
        )
    )
    return RuleVerdict(
        C.HEALTH_CARE_OPERATIONS,
        True,
        ("45 CFR 164.508(a)(1)",),
        "insufficient_facts",
        tuple(trace),
        questions=(Q_PURPOSE,),
        facts=f,
    )
