"""Synthetic staff sentences carrying Safe Harbor identifiers, with their gold spans.

Two template families, written separately, so the scrubber's figures are honest:

* **A** (tuning): sentences and value formats written together with ``app/scrub.py``;
  the detector was adjusted until it did well here.
* **B** (held out, reported): other sentences, other phrasings (chat, e-mail,
  voicemail, "Last, First", identifiers without the word that announces them), and
  values from Faker (a third party's generators of US names, addresses, phone formats
  with extensions, plates, VINs, e-mails, URLs, IPv6 …), which the detector was
  never tuned on.

Every sentence has a *focus* kind, so ``n`` sentences per kind give at least ``n`` gold
identifiers of every kind (usually more, as most sentences carry several).  No value
is of a real person: names are drawn at random and numbers are random.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from faker import Faker

Family = Literal["A", "B"]


@dataclass(frozen=True)
class GoldSpan:
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class SynthSentence:
    text: str
    spans: tuple[GoldSpan, ...]
    focus: str
    family: str


# Slot names → gold kind.  A slot that is not an identifier (a state) has kind "".
_SLOT_KIND = {
    "name": "name",
    "first": "name",
    "last": "name",
    "street": "address",
    "city": "address",
    "state": "",
    "zip": "zip",
    "date": "date",
    "age": "age",
    "phone": "phone",
    "fax": "fax",
    "email": "email",
    "ssn": "ssn",
    "ssn_plain": "ssn",
    "mrn": "mrn",
    "plan": "health_plan_id",
    "account": "account",
    "license": "license",
    "plate": "vehicle",
    "vin": "vehicle",
    "serial": "device",
    "url": "url",
    "ip": "ip",
    "other": "other_id",
}

# ----------------------------------------------------------------------------- family A

_A_TEMPLATES: dict[str, list[str]] = {
    "name": [
        "Please send {name}'s records (MRN {mrn}, DOB {date}) to her new cardiologist.",
        "Can we tell {name}'s daughter about the biopsy results before she calls back?",
        "Mr. {last} asked for a copy of his chart from last year.",
        "Patient {name} wants her labs sent to her PCP.",
        "Dr. {last} would like the discharge summary for {name}.",
        "My mother, {first}, is in the ICU; can the nurses update me by phone?",
        "From: {last}, {first} - please stop the fundraising letters.",
    ],
    "address": [
        "Mail the bill to {name} at {street}, {city}, {state} {zip}.",
        "The patient moved to {street}, {city}, {state}; update the chart.",
        "Our home health nurse visits {street} every Tuesday.",
        "She lives in {city}, {state} {zip} and wants records mailed there.",
        "Old address {street} {city} {state} {zip} is on the returned letter.",
    ],
    "zip": [
        "Send a list of patients in ZIP {zip} to the county health department.",
        "Members with ZIP code {zip} get the new plan mailer.",
        "Address on file: {street}, {city}, {state} {zip}.",
    ],
    "date": [
        "He was admitted on {date} and discharged on {date}.",
        "DOB {date}; the insurer asks for the operative note.",
        "Her last visit was {date}; can we share the notes with the school?",
        "Surgery is scheduled for {date} at the main campus.",
    ],
    "age": [
        "A {age}-year-old resident fell at the nursing home last night.",
        "Patient is {age} years old and her son wants her chart.",
        "Mrs. {last}, aged {age}, asked for her immunization record.",
        "{age} y/o male with chest pain transferred to cardiology.",
    ],
    "phone": [
        "Call {name} at {phone} about the refill reminder.",
        "Her cell is {phone}; can we text appointment reminders?",
        "The son left his number, {phone}, and wants an update.",
        "Phone: {phone}. Please call about the lab results.",
    ],
    "fax": [
        "Fax the records to {fax} attn: medical records.",
        "The lawyer's fax number is {fax}; they want the whole chart.",
        "Please fax {name}'s consult to {fax} today.",
    ],
    "email": [
        "Email the test results to {email} as the patient asked.",
        "The daughter wrote from {email} asking for her dad's meds list.",
        "Contact: {email}, {phone}.",
    ],
    "ssn": [
        "The collection agency wants the SSN {ssn} for {name}.",
        "Social security number {ssn} was on the fax cover sheet.",
        "SSN: {ssn}; DOB {date}.",
        "Registration keyed social security {ssn_plain} wrong.",
    ],
    "mrn": [
        "MRN {mrn} needs the records release form signed.",
        "Medical record number {mrn}: patient asks for an amendment.",
        "Pull chart #{mrn} for the quality review.",
        "Chart {mrn}: the teen asked us not to tell her parents.",
    ],
    "plan": [
        "Member ID {plan} was denied for the MRI.",
        "Medicare number {plan} on the claim does not match.",
        "Her policy number is {plan}; the insurer wants the notes.",
        "Member # {plan} wants an accounting of disclosures.",
    ],
    "account": [
        "Account number {account} is 90 days past due.",
        "The patient's acct #{account} goes to the collection agency.",
        "Card ending in {account} was charged twice.",
    ],
    "license": [
        "Driver's license {license} was scanned at registration.",
        "His DEA number {license} is on the prescription.",
        "Nursing license #{license} is up for renewal.",
    ],
    "plate": [
        "The police asked who owns the car with plate {plate} in our lot.",
        "License plate {plate} was parked in the ambulance bay.",
        "VIN {vin} belongs to the patient's car that was towed.",
    ],
    "serial": [
        "Pacemaker serial number {serial} was recalled by the maker.",
        "Insulin pump S/N {serial} reported an error.",
        "Device ID {serial} is assigned to the patient at home.",
    ],
    "url": [
        "The patient posted {url} with photos of her surgery.",
        "Her blog at {url} mentions our clinic.",
        "Send the portal link {url} to the family.",
    ],
    "ip": [
        "The login to the portal came from {ip} at midnight.",
        "Audit log shows IP {ip} downloaded the chart.",
        "Access from {ip} looks suspicious.",
    ],
    "other": [
        "Case number {other} is the complaint about the billing error.",
        "Reference #{other} for the records request.",
        "Ticket ID {other} is the patient's portal complaint.",
    ],
}

_A_FIRST = (
    "Maria James Linda Robert Patricia Michael Jennifer David Susan Thomas Karen Daniel "
    "Nancy Paul Sandra Steven Betty Kevin Helen Brian Angela Jason Deborah Gary Rachel "
    "Eric Carolyn Jacob Janet Nathan Aisha Omar Priya Wei Hiroshi Olga Ivan Fatima"
).split()
_A_LAST = (
    "Lopez Whitaker Smith Johnson Garcia Miller Davis Rodriguez Martinez Hernandez Wilson "
    "Anderson Taylor Thompson Moore Jackson Martin Lee Perez Harris Clark Lewis Robinson "
    "Walker Young Allen Nguyen Patel Kim Okafor Kowalski Schneider Ivanova Tanaka Haddad"
).split()
_A_STREETS = "Main Oak Maple Cedar Elm Pine Washington Lake Hill Park Sunset Lincoln Church".split()
_A_SUFFIX = "St Street Ave Avenue Rd Road Blvd Lane Dr Drive Ct Way Pl".split()
_A_CITIES = "Springfield Dayton Fresno Tacoma Albany Madison Eugene Boise Akron Salem".split()
_A_STATES = "OH CA WA NY WI OR ID MA IL TX".split()


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _letters(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))


def _a_date(rng: random.Random) -> str:
    d = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 95 * 365))
    fmt = rng.choice(["%m/%d/%Y", "%B %d, %Y", "%d %b %Y", "%Y-%m-%d", "%-m/%-d/%Y", "%b %d"])
    return d.strftime(fmt)


def _a_phone(rng: random.Random) -> str:
    a, b, c = _digits(rng, 3), _digits(rng, 3), _digits(rng, 4)
    a = str(rng.randint(2, 9)) + a[1:]
    return rng.choice([f"{a}-{b}-{c}", f"({a}) {b}-{c}", f"+1 {a} {b} {c}", f"{a}.{b}.{c}"])


def _a_values(rng: random.Random) -> dict[str, Callable[[], str]]:
    return {
        "name": lambda: f"{rng.choice(_A_FIRST)} {rng.choice(_A_LAST)}",
        "first": lambda: rng.choice(_A_FIRST),
        "last": lambda: rng.choice(_A_LAST),
        "street": lambda: (
            f"{rng.randint(1, 9999)} {rng.choice(_A_STREETS)} {rng.choice(_A_SUFFIX)}"
            + rng.choice(["", "", f" Apt {rng.randint(1, 40)}{rng.choice('AB')}", ", Unit 5"])
        ),
        "city": lambda: rng.choice(_A_CITIES),
        "state": lambda: rng.choice(_A_STATES),
        "zip": lambda: _digits(rng, 5) + rng.choice(["", "", "-" + _digits(rng, 4)]),
        "date": lambda: _a_date(rng),
        "age": lambda: str(rng.randint(90, 104)),
        "phone": lambda: _a_phone(rng),
        "fax": lambda: _a_phone(rng),
        "email": lambda: (
            f"{rng.choice(_A_FIRST).lower()}.{rng.choice(_A_LAST).lower()}"
            f"{rng.choice(['', '+rx', '42'])}@{rng.choice(['gmail.com', 'mail.example.org'])}"
        ),
        "ssn": lambda: f"{rng.randint(100, 665)}-{_digits(rng, 2)}-{_digits(rng, 4)}",
        "ssn_plain": lambda: f"{rng.randint(100, 665)}{_digits(rng, 6)}",
        "mrn": lambda: _digits(rng, rng.choice([7, 8, 10])),
        "plan": lambda: rng.choice([_letters(rng, 3) + _digits(rng, 9), _digits(rng, 11)]),
        "account": lambda: _digits(rng, rng.choice([4, 8, 12])),
        "license": lambda: _letters(rng, 1) + _digits(rng, 7),
        "plate": lambda: rng.choice(
            [
                f"{_digits(rng, 1)}{_letters(rng, 3)}{_digits(rng, 3)}",
                f"{_letters(rng, 3)}-{_digits(rng, 4)}",
                f"{_digits(rng, 3)} {_letters(rng, 3)}",
            ]
        ),
        "vin": lambda: _letters(rng, 3) + _digits(rng, 2) + _letters(rng, 4) + _digits(rng, 8),
        "serial": lambda: f"{_letters(rng, 2)}{_digits(rng, 6)}",
        "url": lambda: (
            f"https://www.{rng.choice(_A_LAST).lower()}-family.com/blog/{_digits(rng, 3)}"
        ),
        "ip": lambda: ".".join(str(rng.randint(1, 254)) for _ in range(4)),
        "other": lambda: f"{_letters(rng, 2)}-{_digits(rng, 6)}",
    }


# ----------------------------------------------------------------------------- family B

_B_TEMPLATES: dict[str, list[str]] = {
    "name": [
        "hi - {first} {last} is asking whether her ex-husband can see her visit history, ok?",
        "Got a voicemail from {first} {last}: she wants her x-rays burned to a CD.",
        "Re: {last}, {first} - the attorney's subpoena arrived without a court order.",
        "Nurse asks if she can give {first}'s husband the post-op instructions.",
        "{first} {last} passed away Tuesday; the funeral home wants the death certificate info.",
        "Our pt Ms. {last} opted out of fundraising letters.",
        "{name} (our patient) agreed to be in the facility directory.",
        "Rep from the drug company wants a list that includes {name} and others on the drug.",
    ],
    "street": [
        "Pt's home address changed to {street}, {city}, {state} {zip} - update billing?",
        "Return address on the complaint letter: {street} {city} {state} {zip}",
        "Can the courier drop the CD of images at {street} for the patient's lawyer?",
        "The school nurse at {street} in {city} wants shot records.",
    ],
    "zip": [
        "Researcher wants dates of service and full zip codes ({zip}, {zip}) for the cohort.",
        "Marketing wants every member whose zip is {zip} for the new gym promo.",
        "{city}, {state} {zip} is where the outbreak cases live; the health dept asked.",
    ],
    "date": [
        "pt seen {date}, labs drawn {date} - the employer wants the results",
        "Date of birth {date}. Mother wants to know if the teen was seen for birth control.",
        "Discharged {date} to a SNF; send the med list over?",
        "The police asked whether she was in the ER on {date}.",
    ],
    "age": [
        "Oldest resident just turned {age} and the local paper wants a story with her photo.",
        "Study extract includes a participant aged {age}; is that allowed in a limited data set?",
        "{age} yo female, family wants her records sent to the hospice.",
        "Our {age}-year-old patient asked us to share her diagnosis with her niece.",
    ],
    "phone": [
        "Voicemail from the daughter, callback {phone}, wants to know about her dad's surgery.",
        "Can I text the appointment reminder to {phone}? It's the patient's cell.",
        "Insurance rep called from {phone} asking for the op note.",
        "Best number for the patient is {phone} (mobile).",
    ],
    "fax": [
        "Outside clinic requests the MRI report; their fax is {fax}.",
        "Please fax the consent to {fax} before noon.",
        "Sent the discharge summary by fax to {fax} - wrong number?",
    ],
    "email": [
        "Patient emailed from {email} asking for her lab results.",
        "Can we put {email} on the newsletter list? The patient signed up at the front desk.",
        "The adjuster at {email} wants the workers' comp records.",
    ],
    "ssn": [
        "Collections needs the guarantor's social: {ssn}.",
        "Registration typed the SSN as {ssn} - please correct.",
        "The payer rejected the claim, SSN {ssn} does not match.",
    ],
    "mrn": [
        "Chart {mrn} - mom wants the teen's STD test results.",
        "MRN: {mrn}. Detective asks for the blood alcohol result.",
        "Please merge duplicate records {mrn} and {mrn}.",
        "Pt #{mrn} asked to amend the allergy list.",
    ],
    "plan": [
        "Subscriber ID {plan}; the plan wants the full chart for the appeal.",
        "Medicaid ID {plan} - eligibility check failed.",
        "Member # {plan} asked for an accounting of disclosures.",
    ],
    "account": [
        "Acct {account} is going to collections next week.",
        "Patient account no. {account} was refunded by mistake.",
        "Payment from routing number {account} bounced.",
    ],
    "license": [
        "Copied his DL #{license} at check-in for the controlled substance pickup.",
        "Certificate number {license} is on the death certificate copy.",
        "The prescriber's license number {license} is expired.",
    ],
    "plate": [
        "Security noted plate {plate} on the car that hit the patient.",
        "Tag {plate} - the tow company asks who the patient is.",
        "The car's VIN is {vin}; the insurer wants the ER records.",
    ],
    "serial": [
        "Recall notice lists device serial {serial}; can we tell the maker which patient has it?",
        "Home monitor SN {serial} keeps sending readings after the patient died.",
        "CPAP serial no. {serial} - the vendor wants the usage data.",
        "Her hearing aid's MAC address {mac} showed up in the Wi-Fi log.",
    ],
    "url": [
        "Someone posted the patient's chart at {url} - what do we do?",
        "Her GoFundMe page {url} names our hospital and her diagnosis.",
        "The patient's review on {url} mentions her diagnosis; can we reply?",
    ],
    "ip": [
        "The suspicious login came from {ip}.",
        "Firewall logged {ip} pulling records at 3 am.",
        "Portal access from IP address {ip} matched the ex-spouse's home.",
    ],
    "other": [
        "Complaint ref {other} - the patient says we shared her HIV status.",
        "Incident #{other} covers the misdirected fax.",
        "Confirmation code {other} for the records request by her attorney.",
    ],
}


def _b_values(fake: Faker, rng: random.Random) -> dict[str, Callable[[], str]]:
    def name() -> str:
        middle = f" {fake.random_uppercase_letter()}." if rng.random() < 0.25 else ""
        return f"{fake.first_name()}{middle} {fake.last_name()}"

    def street() -> str:
        s = fake.street_address()
        return (
            s
            if rng.random() < 0.6 or "Suite" in s or "Apt" in s
            else s + ", " + fake.secondary_address()
        )

    def when() -> str:
        d = fake.date_between(date(1925, 1, 1), date(2026, 12, 31))
        fmt = rng.choice(
            [
                "%m/%d/%Y",
                "%-m/%-d/%y",
                "%B %-d, %Y",
                "%-d %b %Y",
                "%Y-%m-%d",
                "%b. %-d",
                "%B %-d",
                "%m-%d-%Y",
                "%B %Y",
                "%-d %B",
            ]
        )
        return d.strftime(fmt)

    def age() -> str:
        return str(rng.randint(90, 109))

    return {
        "name": name,
        "first": fake.first_name,
        "last": fake.last_name,
        "street": street,
        "city": fake.city,
        "state": lambda: rng.choice([fake.state_abbr(), fake.state()]),
        "zip": lambda: rng.choice([fake.zipcode(), fake.zipcode_plus4()]),
        "date": when,
        "age": age,
        "phone": fake.phone_number,
        "fax": fake.phone_number,
        "email": lambda: rng.choice([fake.email(), fake.free_email(), fake.company_email()]),
        "ssn": lambda: rng.choice([fake.ssn(), fake.ssn().replace("-", "")]),
        "mrn": lambda: fake.bothify(rng.choice(["########", "E#########", "MR######", "#######"])),
        "plan": lambda: fake.bothify(
            rng.choice(["#??#-??#-??##", "???#########", "W#########", "##########A"])
        ).upper(),
        "account": lambda: rng.choice([fake.bban(), fake.aba(), fake.numerify("##########")]),
        "license": lambda: fake.bothify(
            rng.choice(["?#######", "??#######", "###-###-###", "?##-###-##-###"])
        ).upper(),
        "plate": fake.license_plate,
        "vin": fake.vin,
        "serial": lambda: fake.bothify(
            rng.choice(["??######", "SN-####-??##", "###?####?##", "############"])
        ).upper(),
        "mac": fake.mac_address,
        "url": lambda: rng.choice(
            [fake.url(), fake.uri(), f"www.{fake.domain_name()}/{fake.slug()}"]
        ),
        "ip": lambda: rng.choice([fake.ipv4(), fake.ipv4_private(), fake.ipv6()]),
        "other": lambda: fake.bothify(rng.choice(["#######", "INC-######", "??-####-##"])).upper(),
    }


# ----------------------------------------------------------------------------- assembly

_SLOT = re.compile(r"\{(\w+)\}")
_FOCUS = {
    "name": "name",
    "address": "street",
    "zip": "zip",
    "date": "date",
    "age": "age",
    "phone": "phone",
    "fax": "fax",
    "email": "email",
    "ssn": "ssn",
    "mrn": "mrn",
    "health_plan_id": "plan",
    "account": "account",
    "license": "license",
    "vehicle": "plate",
    "device": "serial",
    "url": "url",
    "ip": "ip",
    "other_id": "other",
}


def _fill(
    template: str, values: dict[str, Callable[[], str]], focus: str, family: str
) -> SynthSentence:
    parts: list[str] = []
    spans: list[GoldSpan] = []
    pos = 0
    last = 0
    for m in _SLOT.finditer(template):
        literal = template[last : m.start()]
        parts.append(literal)
        pos += len(literal)
        slot = m.group(1)
        value = values[slot]()
        kind = "device" if slot == "mac" else _SLOT_KIND[slot]
        if kind:
            spans.append(GoldSpan(kind, pos, pos + len(value)))
        parts.append(value)
        pos += len(value)
        last = m.end()
    parts.append(template[last:])
    return SynthSentence("".join(parts), tuple(spans), focus, family)


def generate(n: int = 300, seed: int = 0, family: Family = "B") -> list[SynthSentence]:
    """``n`` sentences per kind (so at least ``n`` identifiers of every kind)."""
    rng = random.Random(f"{family}:{seed}")
    if family == "A":
        values = _a_values(rng)
        templates = _A_TEMPLATES
    else:
        fake = Faker("en_US")
        fake.seed_instance(seed)
        values = _b_values(fake, rng)
        templates = _B_TEMPLATES
    out: list[SynthSentence] = []
    for kind, slot in _FOCUS.items():
        key = slot if slot in templates else kind
        for _ in range(n):
            out.append(_fill(rng.choice(templates[key]), values, kind, family))
    return out
