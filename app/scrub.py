"""Remove the identifiers of 45 CFR 164.514(b)(2)(i) that free text can reveal.

Staff paste real patient details into the tool.  Before a description reaches an LLM
outside this process, a log or a stored record, every identifier of the Safe Harbor
list that text can carry (names, geographic subdivisions smaller than a State, date
elements other than the year and ages over 89, telephone and fax numbers, e-mail,
SSN, medical record, health plan beneficiary, account, certificate/licence, vehicle
and device numbers, URLs, IP addresses and any other unique number) is replaced by a
typed placeholder such as ``[NAME_1]``.  Biometrics and photographs (P), (Q) cannot
be in text and are out of scope.

What must *survive* is the legal substance the rules read: roles ("her daughter",
"Dr." alone), organisations (covered entities, drug makers, Medicare), a year alone,
durations, money, drug names and citations.  None of these identify the individual,
so none is on the Safe Harbor list.  The word that announces an identifier ("MRN",
"DOB", "fax") stays too: it tells the reader what was removed and the rules never
need the value itself.

Detection is deliberately rule-based (no model: nothing may be downloaded at run time,
and every decision must be explainable to a privacy officer).  :func:`residual` is a
second, independent and broader detector used to refuse sending text that still
looks identifying.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from indexer.errors import TpoError

NAMES_FILE = Path(__file__).resolve().parents[1] / "corpus" / "scrub_names.yaml"

KINDS: tuple[str, ...] = (
    "name",
    "address",
    "zip",
    "date",
    "age",
    "phone",
    "fax",
    "email",
    "ssn",
    "mrn",
    "health_plan_id",
    "account",
    "license",
    "vehicle",
    "device",
    "url",
    "ip",
    "other_id",
)

# Placeholders are one token ("[PHONE_1]", not "[PHONE-1]") and "E_MAIL" is split: the
# lexicon's case-insensitive patterns must not read a placeholder as the word "phone" or
# "email" (a communication channel), or the scrubbed text would change the verdict.
_LABEL = {k: k.upper() for k in KINDS} | {
    "health_plan_id": "PLAN_ID",
    "other_id": "ID",
    "email": "E_MAIL",
}

# (singular, plural) for the summary the user reads.
_NOUN: dict[str, tuple[str, str]] = {
    "name": ("name", "names"),
    "address": ("address", "addresses"),
    "zip": ("ZIP code", "ZIP codes"),
    "date": ("date", "dates"),
    "age": ("age over 89", "ages over 89"),
    "phone": ("phone number", "phone numbers"),
    "fax": ("fax number", "fax numbers"),
    "email": ("e-mail address", "e-mail addresses"),
    "ssn": ("Social Security number", "Social Security numbers"),
    "mrn": ("medical record number", "medical record numbers"),
    "health_plan_id": ("health plan number", "health plan numbers"),
    "account": ("account number", "account numbers"),
    "license": ("certificate or licence number", "certificate or licence numbers"),
    "vehicle": ("vehicle identifier", "vehicle identifiers"),
    "device": ("device identifier", "device identifiers"),
    "url": ("web address", "web addresses"),
    "ip": ("IP address", "IP addresses"),
    "other_id": ("other identifying number", "other identifying numbers"),
}


@dataclass(frozen=True)
class Redaction:
    """One identifier removed; offsets are in the original text, the value is never kept."""

    kind: str
    placeholder: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "placeholder": self.placeholder,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class Scrubbed:
    text: str
    redactions: tuple[Redaction, ...]

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for r in self.redactions:
            found[r.kind] = found.get(r.kind, 0) + 1
        return {k: found[k] for k in KINDS if k in found}

    def summary(self) -> str:
        counts = self.counts()
        return "removed " + describe(counts) if counts else "no identifiers found"

    def only_placeholders(self) -> bool:
        """True when nothing but placeholders and punctuation is left (nothing to classify)."""
        rest = _PLACEHOLDER.sub(" ", self.text)
        return bool(self.redactions) and not re.search(r"[A-Za-z0-9]", rest)

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "summary": self.summary(),
            "counts": self.counts(),
            "redactions": [r.to_json() for r in self.redactions],
        }


def describe(counts: Mapping[str, int]) -> str:
    """'1 name, 2 dates' from counts by kind: what the user reads about what was removed."""
    parts = []
    for kind, n in counts.items():
        one, many = _NOUN.get(kind, (kind.replace("_", " "), kind.replace("_", " ") + "s"))
        parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts)


class IdentifierLeakError(TpoError):
    """Text about to leave the process still looks like it carries an identifier."""

    hint = (
        "Remove the identifier from the description (names, dates, numbers, addresses) "
        "and ask again; the rules need only what happens to the information, not who it is."
    )


_PLACEHOLDER = re.compile(r"\[(?:" + "|".join(_LABEL.values()) + r")_\d+\]")
PLACEHOLDER = _PLACEHOLDER  # for faces that highlight placeholders


# ---------------------------------------------------------------------------------------
# Word lists


@dataclass(frozen=True)
class NameLists:
    first: frozenset[str]
    last: frozenset[str]
    ambiguous: frozenset[str]
    stop: frozenset[str]


@lru_cache(maxsize=2)
def load_names(path: Path = NAMES_FILE) -> NameLists:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return NameLists(
        first=frozenset(data["first"]),
        last=frozenset(data["last"]),
        ambiguous=frozenset(data["ambiguous"]),
        stop=frozenset(data["stop"]),
    )


# ---------------------------------------------------------------------------------------
# Candidates


@dataclass(frozen=True)
class _Hit:
    kind: str
    start: int
    end: int
    priority: int  # cue-announced > shaped like the kind > names > bare long numbers


_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_DATES = [
    re.compile(rf"\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?(?![\w/])"),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?(?!\w)"),
    re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b"),
    re.compile(
        r"(?<![\w./-])(?:0?[1-9]|1[0-2])([/.-])(?:0?[1-9]|[12]\d|3[01])\1(?:\d{4}|\d{2})(?![\w/])"
    ),
    re.compile(
        r"(?<![\w./-])(?:1[89]|20)\d\d([/.-])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])(?!\w)"
    ),
    re.compile(r"(?<![\w./-])(?:0?[1-9]|[12]\d|3[01])([/.-])(?:1[3-9]|2\d|3[01])\1\d{4}(?!\w)"),
]
# m/d without a year is a date only where a word announces one ("on 3/14", "since 11/2"):
# bare "1/2" or "24/7" is not.
_SHORT_DATE = re.compile(
    r"(?i:\b(?:on|since|from|until|till|by|dated|date|dob|admitted|discharged|seen|visit(?:ed)?|"
    r"born|died|surgery|appt|appointment|through|thru|before|after)\s+)"
    r"((?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01]))(?![\w/])"
)
_DOB_DIGITS = re.compile(r"(?i:\b(?:dob|d\.o\.b\.|date of birth|born)\s*[:#]?\s*)(\d{6,8})\b")

_OLD = r"(?:9\d|1[01]\d)"
_AGES = [
    re.compile(rf"\b({_OLD})(?=[- ](?:years?|yrs?|y/?o)\b)", re.IGNORECASE),
    re.compile(rf"\b({_OLD})(?=\s*(?:yo|y\.o\.|y/o|yr old|M|F)\b)"),
    re.compile(rf"(?i:\b(?:age[ds]?|aged|age of)\s*:?\s*)({_OLD})\b(?!\s*(?:\+|or |and |plus))"),
    re.compile(rf"(?i:\bturn(?:s|ed|ing)?\s+)({_OLD})\b"),
]

_PHONE = re.compile(
    r"(?<![\w+/.-])(?:(?:\+?1|001)[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}"
    r"(?:\s*(?:x|ext\.?|extension)\s*\d{1,5})?(?![\w-])"
    r"|(?<![\w+/.$-])\d{3}-\d{4}(?![\w-])"
    r"|(?<![\w/.-])\+\d{1,3}(?:[\s.-]\d{1,4}){2,5}(?![\w-])"
)
_FAX_CUE = re.compile(r"(?i)\bfax(?:ed|ing)?\b")
_VOICE_CUE = re.compile(r"(?i)\b(?:phone|tel|telephone|cell|mobile|call|text|home|work|pager)\b")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+%-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_TLD = r"(?:com|org|net|gov|edu|io|us|info|biz|health|care|co|me|app|ly|mil|int|uk|ca|de|ai)"
_URL = re.compile(
    r"(?i)(?<![\w.])(?:https?://|ftp://|www\.)[^\s<>\"'\]]++"
    rf"|(?<![\w.@-])(?:[a-z0-9-]{{1,63}}\.){{1,8}}{_TLD}\b(?:[/?#][^\s<>\"'\]]*+)?"
)
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.]\d)"
)
_IPV6 = re.compile(
    r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])"
    r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4}(?![\w:])"
    r"|(?<![\w:])::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4}(?![\w:])"
)
_MAC = re.compile(r"(?<![\w:-])(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}(?![\w:-])")
_SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])")

# An announced identifier: the cue word stays, the value after it goes.  The value must
# hold a digit, so "account for" or "plan of care" never match.
_SEP = (
    r"(?:\s*(?:(?:is|was|of|as|number|no\.?|num\.?|ending in|ends in|last four|last 4)(?=[\s:#])"
    r"|[:#=-]))*\s*"
)
_VALUE = r"((?=[A-Za-z0-9-]*\d)[A-Za-z0-9](?:[A-Za-z0-9]|[-/.](?=[A-Za-z0-9])){3,29})(?![\w@])"
_PLATE_VALUE = (
    r"((?=[A-Z0-9 -]{2,10}(?![\w-]))(?=[A-Z0-9 -]*\d)"
    r"[A-Z0-9]{1,8}(?:[ -][A-Z0-9]{1,8}){0,2})(?![\w@-])"
)
_NUM = r"(?:number|no\.?|num\.?|#|ID|id)"
_CUES: list[tuple[str, str]] = [
    (
        "ssn",
        rf"\bSSN|\bSS#|\bsocial(?=:)|\bsocial security(?: card)?(?: {_NUM})?"
        rf"|\bsocial sec\.?(?: {_NUM})?",
    ),
    (
        "mrn",
        rf"\bMRN|\bMR#|\bMR {_NUM}|\bmedical record {_NUM}|\bmed(?:ical)? rec(?:ord)?\.? {_NUM}"
        rf"|\bchart(?: {_NUM})?|\bpt\.? ?#|\bpatient {_NUM}|\bpt\.? {_NUM}|\brecord {_NUM}"
        rf"|\bhospital {_NUM}"
        rf"|\bencounter {_NUM}|\bvisit {_NUM}|\bFIN|\bEMPI|\bunit {_NUM}",
    ),
    (
        "health_plan_id",
        rf"\bmember {_NUM}|\bmember ID {_NUM}|\bsubscriber(?: ID)? {_NUM}|\bpolicy {_NUM}"
        rf"|\bbeneficiary(?: ID)? {_NUM}|\bMBI|\bHICN|\bMedicare(?: card| beneficiary)? {_NUM}"
        rf"|\bMedicaid(?: card)? {_NUM}|\binsurance(?: card)? {_NUM}|\bplan {_NUM}"
        rf"|\bgroup {_NUM}|\bhealth plan(?: ID)? {_NUM}|\benrollee {_NUM}|\bRxBIN|\bRxPCN"
        rf"|\bBIN|\bPCN|\bcard ID",
    ),
    (
        "account",
        rf"\baccount(?: {_NUM})?|\bacct\.?(?: {_NUM})?|\bbilling {_NUM}|\binvoice(?: {_NUM})?"
        rf"|\bclaim {_NUM}|\bcard {_NUM}|\bcard ending|\bending in|\brouting {_NUM}"
        rf"|\bguarantor {_NUM}|\bstatement {_NUM}|\bIBAN|\bcredit card|\bdebit card"
        rf"|\bVisa|\bMastercard|\bAmex",
    ),
    (
        "license",
        rf"\b(?:driver'?s?|driving) licen[cs]e(?: {_NUM})?|\blicen[cs]e {_NUM}|\bDL {_NUM}|\bDL"
        rf"|\bcertificate {_NUM}|\bcert\.? {_NUM}|\bDEA(?: {_NUM})?|\bNPI(?: {_NUM})?"
        rf"|\bpermit {_NUM}|\bpassport(?: {_NUM})?|\bbadge {_NUM}|\bstate ID(?: {_NUM})?"
        rf"|\bregistration {_NUM}|\bnursing licen[cs]e|\bmedical licen[cs]e",
    ),
    (
        "vehicle",
        rf"\bVIN(?: {_NUM})?|\bvehicle(?: ID| identification)?(?: {_NUM})?",
    ),
    (
        "device",
        rf"\bserial(?: {_NUM})?|\bS/N|\bSN|\bdevice(?: ID| identifier| serial)?(?: {_NUM})?"
        rf"|\bIMEI|\bUDI|\bMAC(?: address)?|\blot {_NUM}|\bimplant(?: ID| serial)? {_NUM}"
        rf"|\bmodel {_NUM}|\bpump {_NUM}|\bpacemaker(?: {_NUM})?|\bmonitor {_NUM}",
    ),
    (
        "other_id",
        rf"\bID {_NUM}|\bidentifier|\breference {_NUM}|\bref\.? {_NUM}|\bconfirmation(?: {_NUM}"
        rf"| code)?|\bticket {_NUM}|\bcase {_NUM}|\bemployee {_NUM}|\bstudent {_NUM}"
        rf"|\btracking {_NUM}|\border {_NUM}|\brequest {_NUM}|\bfile {_NUM}|\bdocket {_NUM}"
        rf"|\bID(?=:)|\b(?:access|portal|security|verification) code",
    ),
]
_CUED: list[tuple[str, re.Pattern[str]]] = [
    (
        kind,
        re.compile(
            rf"(?:{cues})(?:(?<=\w)(?!\w)|(?<!\w)){_SEP}{_VALUE}",
            re.IGNORECASE,
        ),
    )
    for kind, cues in _CUES
]
_CUED_PLATE_CI = re.compile(
    rf"(?i:\b(?:licen[cs]e )?plates?(?: {_NUM})?|\btags?(?: {_NUM})?)(?!\w)"
    rf"(?i:{_SEP}){_PLATE_VALUE}"
)

# Bare long numbers and codes: Safe Harbor (R), "any other unique identifying number".
_LONG_NUMBER = re.compile(
    r"(?<![\w$.,/-])(?<!\d )(?!(?:19|20)\d\d\s?[-–]\s?(?:19|20)?\d\d\b)\d(?:[- ]?\d){6,}+(?![\w-])"
)
_CODE = re.compile(
    r"(?<![\w$./-])(?=[A-Z0-9-]*[A-Z])(?=(?:[A-Z-]*\d){4})[A-Z0-9]+(?:-[A-Z0-9]+)*(?![\w-])"
)

_STATE_ABBR = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI AS FM MH MP PW "
    "AA AE AP"
).split()
_STATE_NAME = (
    r"Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|"
    r"Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|"
    r"Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|"
    r"New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|"
    r"Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|"
    r"West Virginia|Wisconsin|Wyoming|Puerto Rico"
)
_STATE = rf"(?:{'|'.join(_STATE_ABBR)}|{_STATE_NAME})"
_SUFFIX = (
    r"Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Wy|Place|Pl|"
    r"Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Loop|Row|Path|Pike|"
    r"Alley|Aly|Crossing|Xing|Plaza|Plz|Point|Pt|Ridge|Rdg|Run|Turnpike|Tpke|Heights|Hts|Route|"
    r"Rte|Cove|Cv|Crescent|Walk|Center|Ctr|Expressway|Expy|Freeway|Fwy|Mall|Park|Pass|Village|"
    r"Vlg|Glen|Gln|Hollow|Holw|Mountain|Mtn|Meadows?|Mdws?|Springs?|Spgs?|Station|Sta|Summit|"
    r"Smt|Views?|Vws?|Vista|Vis|Wells?|Wls?|Estates?|Ests?|Gardens?|Gdns?|Gateway|Gtwy|Green|Grn|"
    r"Grove|Grv|Harbor|Hbr|Haven|Hvn|Hills?|Hls?|Islands?|Isl?|Junction|Jct|Keys?|Knolls?|Knls?|"
    r"Lakes?|Lks?|Landing|Lndg|Manor|Mnr|Mews|Mills?|Mls?|Orchard|Orch|Oval|Port|Prt|Prairie|Pr|"
    r"Ranch|Rnch|Rapids?|Rpds?|Shoals?|Shls?|Shores?|Shrs?|Spur|Stream|Strm|Trace|Trce|Track|Trak|"
    r"Tunnel|Tunl|Union|Un|Valley|Vly|Ville|Vl|Fort|Ft|Forge|Frg|Ford|Frd|Falls|Fls|Ferry|Fry|"
    r"Fields?|Flds?|Flats?|Flts?|Creek|Crk|Crest|Crst|Bluffs?|Blfs?|Bend|Bnd|Branch|Br|Brooks?|"
    r"Brks?|Burgs?|Bgs?|Bypass|Byp|Camp|Cp|Canyon|Cyn|Cape|Cpe|Causeway|Cswy|Cliffs?|Clfs?|"
    r"Club|Clb|Commons?|Cmns?|Corners?|Cors?|Curve|Curv|Dale|Dl|Dam|Dm|Divide|Dv|Extensions?|"
    r"Exts?|Fork|Frk|Forks|Frks|Forest|Frst|Freeway|Garden|Gdn|Inlet|Lock|Lodge|Ldg|Lights?|"
    r"Lgts?|Locks|Lcks|Loaf|Lf|Mission|Msn|Motorway|Mtwy|Neck|Nck|Overpass|Opas|Pines|Pnes|"
    r"Plains?|Plns?|Radial|Radl|Ramp|Rest|Rst|Shoal|Skyway|Skwy|Squares?|Sqs|Stravenue|Stra|"
    r"Throughway|Trwy|Trafficway|Trfy|Underpass|Upas|Viaduct|Via|Ville|Way|Ways|Bottom|Btm|"
    r"Isle|Light|Lgt|Mount|Mt|Pine|Pne|Shore|Shr|Station|Stn|Town|Twn|Passage|Psge|Falls?|Bridge|"
    r"Brg|Course|Crse|River|Riv|Land|Rue|Lndg|Harbors?|Hbrs?|Ports?|Prts?"
)
_UNIT = (
    r"(?:,?\s*(?:Apt\.?|Apartment|Unit|Suite|Ste\.?|#|Room|Rm\.?|Floor|Fl\.?|Bldg\.?|Building|"
    r"Lot|Trlr|Space|Spc\.?)\s*#?\s*[A-Za-z0-9-]{1,6})"
)
_STREET = re.compile(
    r"(?<![\w$.-])\d{1,6}[A-Za-z]?(?:-\d{1,4})?\s+"
    r"(?:(?:[NSEW]|NE|NW|SE|SW|North|South|East|West)\.?\s+)?"
    r"(?:(?:[A-Z][A-Za-z'.-]*|\d{1,3}(?:st|nd|rd|th))\s+){1,4}"
    rf"(?:{_SUFFIX})s?\b\.?(?:\s+(?:[NSEW]|NE|NW|SE|SW)\b\.?)?{_UNIT}?"
)
_NOT_STREET = re.compile(r"Safe Harbor")
_PO_BOX = re.compile(r"(?i)\b(?:P\.?\s?O\.?\s?Box|Post Office Box|PO Box|Box)\s+\d{1,6}\b")
_CITY_STATE = re.compile(
    rf"\b((?:[A-Z][a-z]+(?:[ -](?!{_STATE}\b)[A-Z][a-z]+){{0,2}})),\s+{_STATE}\b"
    r"(?:,?\s+(\d{5}(?:-\d{4})?))?"
)
_ZIP_CUE = re.compile(
    r"(?i:\b(?:zip|zip ?codes?|zips|postal codes?|postcodes?)\s*(?:is|are|:|#|\()?\s*)"
    r"(\d{5}(?:-\d{4})?(?:(?:,\s*|\s+(?:and|or)\s+|\s*/\s*)\d{5}(?:-\d{4})?)*)\b"
)
_ZIP = re.compile(r"\d{5}(?:-\d{4})?")
_STATE_ZIP = re.compile(rf"\b{_STATE},?\s+(\d{{5}}(?:-\d{{4}})?)\b")
_COUNTY = re.compile(r"\b((?:[A-Z][a-z]+ ){1,2}(?:County|Parish|Borough|Township))\b")
# "Whitemouth Kentucky 25469": the words before a State and a ZIP code are a city.
_PLACE_STARTS = frozenset(
    "Saint St Mount Mt Fort Ft Lake New North South East West Port Glen Lake Grand Palm".split()
)
_CITY_STATE_ZIP = re.compile(
    rf"\b((?:[A-Z][a-z]+[ -]){{0,2}}?[A-Z][a-z]+),?\s+{_STATE},?\s+\d{{5}}(?:-\d{{4}})?\b"
)
# "... Suite 497 Whitemouth Kentucky", "... Apt. 5 in Paulview": the city after a street.
_CITY_AFTER_STREET = re.compile(
    r"(?:,\s*|\s+in\s+|\s+)((?:[A-Z][a-z]+)(?:[ -][A-Z][a-z]+){0,2}?)"
    rf"(?=,?\s+{_STATE}\b|\s*,|\s+\d{{5}}|\s+[a-z]|\s*[.;:!?)]|\s*$)"
)
_LIVES_IN = re.compile(
    r"(?i:\b(?:lives|living|resides|residing|moved|moving|relocated|relocating|located|"
    r"lived|is from|was from|comes from|hometown|city of|town of|village of)\s+(?:in|to|at)?\s*)"
    r"((?:[A-Z][a-z]+)(?:[ -][A-Z][a-z]+){0,2})"
)

_TITLE = (
    r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Drs|Prof|Rev|Fr|Father|Sr|Sister|Nurse|Officer|Det|Detective|"
    r"Judge|Pastor|Rabbi|Imam|Capt|Captain|Sgt|Lt|Coach|Mister|Madam|Doctor)"
)
_WORD = r"(?:[A-Z][a-z]*(?:['’][A-Z][a-z]+|[A-Z][a-z]+)*(?:-[A-Z][a-z]+)?)"
_NAME_SEQ = rf"({_WORD}(?:[ \t]+[A-Z]\.?(?=\s))?(?:[ \t]+{_WORD}){{0,2}})"
_TITLED = re.compile(rf"\b{_TITLE}\b\.?[ \t]+{_NAME_SEQ}")
_CUE_WORDS = (
    r"patient|pt|member|client|resident|enrollee|beneficiary|named|called|name is|name was|"
    r"son|daughter|mother|father|mom|dad|wife|husband|brother|sister|spouse|partner|fianc[ée]e?|"
    r"caregiver|guardian|grandmother|grandfather|grandma|grandpa|grandson|granddaughter|aunt|"
    r"uncle|niece|nephew|cousin|friend|neighbor|neighbour|roommate|boyfriend|girlfriend|child|"
    r"baby|infant|toddler|teen|boy|girl|employee|coworker|colleague|hi|hello|dear|thanks|cc|"
    r"signed|regards|attn|attention"
)
_CUED_NAME = re.compile(rf"(?i:\b(?:{_CUE_WORDS})\b),?[ \t]+{_NAME_SEQ}")
_NAME_PAIR = re.compile(rf"\b(?=({_WORD})(?:\s+[A-Z]\.?)?\s+({_WORD})\b)")
_LAST_FIRST = re.compile(rf"\b({_WORD}),\s+({_WORD})\b")
_SINGLE = re.compile(rf"\b({_WORD})\b")
# "Joy's husband": a first name that is also a word is a name when it owns a relative,
# a record or a visit.
_OWNER = re.compile(
    rf"\b({_WORD})['’]s\s+(?:husband|wife|son|daughter|mother|mom|father|dad|parents?|"
    r"brother|sister|spouse|partner|kids?|children|child|baby|records?|chart|labs?|results|"
    r"visit|appointment|bill|account|file|insurance|doctor|caregiver|guardian)\b"
)
# Chat is often typed in lower case: "pt maria lopez called".  Only after a cue word, and
# only names that are not also English words.
_LOWER_CUED = re.compile(
    r"\b(?:patient|pt|member|client|resident|named|name is|son|daughter|mother|father|mom|dad|"
    r"wife|husband|brother|sister|spouse|caregiver|guardian)\b,?\s+([a-z]{2,})(?:\s+([a-z]{2,}))?",
    re.IGNORECASE,
)


def _group_hits(
    pattern: re.Pattern[str], text: str, kind: str, prio: int, group: int = 0
) -> list[_Hit]:
    hits = []
    for m in pattern.finditer(text):
        s, e = m.span(group)
        if s >= 0 and e > s:
            hits.append(_Hit(kind, s, e, prio))
    return hits


def _trim_url(text: str, s: int, e: int) -> int:
    while e > s and text[e - 1] in ".,;:!?)":
        e -= 1
    return e


def _numbers(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in _EMAIL.finditer(text):
        hits.append(_Hit("email", m.start(), m.end(), 5))
    for m in _URL.finditer(text):
        if "@" in text[max(0, m.start() - 1) : m.start()]:
            continue
        hits.append(_Hit("url", m.start(), _trim_url(text, m.start(), m.end()), 4))
    hits += _group_hits(_MAC, text, "device", 4)
    hits += _group_hits(_IPV4, text, "ip", 4)
    hits += _group_hits(_IPV6, text, "ip", 4)
    hits += _group_hits(_SSN, text, "ssn", 2)
    for kind, pattern in _CUED:
        hits += _group_hits(pattern, text, kind, 3, 1)
    hits += _group_hits(_CUED_PLATE_CI, text, "vehicle", 3, 1)
    for m in _PHONE.finditer(text):
        before = text[max(0, m.start() - 45) : m.start()]
        fax = list(_FAX_CUE.finditer(before))
        voice = list(_VOICE_CUE.finditer(before))
        is_fax = bool(fax) and (not voice or fax[-1].start() > voice[-1].start())
        hits.append(_Hit("fax" if is_fax else "phone", m.start(), m.end(), 3 if is_fax else 2))
    hits += _group_hits(_LONG_NUMBER, text, "other_id", 0)
    hits += _group_hits(_CODE, text, "other_id", 0)
    return hits


def _dates(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for p in _DATES:
        hits += _group_hits(p, text, "date", 2)
    hits += _group_hits(_SHORT_DATE, text, "date", 2, 1)
    hits += _group_hits(_DOB_DIGITS, text, "date", 3, 1)
    for p in _AGES:
        hits += _group_hits(p, text, "age", 2, 1)
    return hits


def _places(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    streets = [
        h
        for h in _group_hits(_STREET, text, "address", 2)
        if not _NOT_STREET.search(text[h.start : h.end])
    ]
    streets += _group_hits(_PO_BOX, text, "address", 2)
    hits += streets
    names = load_names()
    for m in _CITY_STATE.finditer(text):
        city = m.group(1)
        words = city.split()
        # "Medicare, Ohio" is not a city: drop leading words that are never places.
        while words and words[0] in names.stop - _PLACE_STARTS:
            words = words[1:]
        if words:
            s = m.start(1) + len(city) - len(" ".join(words))
            hits.append(_Hit("address", s, m.end(1), 2))
        if m.group(2):
            hits.append(_Hit("zip", m.start(2), m.end(2), 3))
    for m in _ZIP_CUE.finditer(text):
        hits += [
            _Hit("zip", m.start(1) + z.start(), m.start(1) + z.end(), 4)
            for z in _ZIP.finditer(m.group(1))
        ]
    hits += _group_hits(_STATE_ZIP, text, "zip", 3, 1)
    hits += _group_hits(_COUNTY, text, "address", 2, 1)
    hits += _group_hits(_CITY_STATE_ZIP, text, "address", 1, 1)
    for h in streets:
        city = _CITY_AFTER_STREET.match(text, h.end)
        if (
            city
            and city.group(1).split()[0] not in _FUNCTION_WORDS
            and not re.fullmatch(_STATE, city.group(1))
        ):
            hits.append(_Hit("address", city.start(1), city.end(1), 2))
    for m in _LIVES_IN.finditer(text):
        place = m.group(1)
        if place.split()[0] not in names.stop and not re.fullmatch(_STATE, place):
            hits.append(_Hit("address", m.start(1), m.end(1), 1))
    return hits


# After "Mr."/"Dr." a surname may be a word the stop list holds ("Ms. Kaiser", "Dr. West").
_FUNCTION_WORDS = frozenset(
    "The A An And Or But If Of On In At By To For From With Is Are Was Were Has Have Had "
    "Will Would Can Could Should May Might Must Office Offices Team Group Clinic Practice "
    "Mr Mrs Ms Miss Mx Dr Drs Prof".split()
)


def _name_words(
    seq: str, start: int, names: NameLists, titled: bool = False
) -> list[tuple[int, int]]:
    """The leading run of words in ``seq`` that can be part of a person's name."""
    spans: list[tuple[int, int]] = []
    for m in re.finditer(rf"{_WORD}|[A-Z]\.?", seq):
        w = m.group(0)
        # A stop word, an initial before any name, or an abbreviation ("IDs", "EHRs").
        acronym = re.match(r"[A-Z]{2}", w) and not re.match(r"(?:O['’]|Mc|Mac|De|Di|La|Le|Van)", w)
        refused = w in (_FUNCTION_WORDS if titled else names.stop)
        if refused or acronym or (len(w.rstrip(".")) == 1 and not spans):
            break
        spans.append((start + m.start(), start + m.end()))
    return spans


def _names(text: str) -> list[_Hit]:
    names = load_names()
    hits: list[_Hit] = []

    def add(spans: list[tuple[int, int]], prio: int) -> None:
        if spans and not _institution(text, spans[0][0], spans[-1][1], names):
            hits.append(_Hit("name", spans[0][0], spans[-1][1], prio))

    # After a title any capitalised word is a name: "Dr. Okafor", "Mrs. Lindqvist".
    for m in _TITLED.finditer(text):
        add(_name_words(m.group(1), m.start(1), names, titled=True), 2)
    # After a cue word ("patient", "my mother,", "named") any capitalised word that is not
    # a role, organisation or place: "her roommate Kelly", "my mother, Priya".
    for m in _CUED_NAME.finditer(text):
        words = _name_words(m.group(1), m.start(1), names)
        if words:
            add(words, 1)
    for m in _NAME_PAIR.finditer(text):
        first, last = m.group(1), m.group(2)
        if first in names.stop or last in _ORG_WORDS:
            continue
        plain_first = first in names.first and first not in names.ambiguous
        # "Danny Cross", "Jeffrey West": a plain first name vouches for a surname that is
        # also a common capitalised word.
        if last in names.stop and not (plain_first and last in names.last):
            continue
        known_first = plain_first or (first in names.first and last in names.last)
        # "Priya Haddad": a first name the list lacks, before a known surname.
        if known_first or (last in names.last and first not in names.ambiguous):
            add([(m.start(1), m.end(2))], 1)
    for m in _LAST_FIRST.finditer(text):
        last, first = m.group(1), m.group(2)
        if (
            last in names.last
            and last not in _ORG_WORDS
            and first in names.first
            and first not in names.ambiguous | names.stop
        ):
            add([(m.start(1), m.end(2))], 1)
    for m in _SINGLE.finditer(text):
        w = m.group(1)
        if w in names.first and w not in names.ambiguous and w not in names.stop:
            add([(m.start(1), m.end(1))], 1)
    for m in _OWNER.finditer(text):
        if m.group(1) in names.first and m.group(1) not in names.stop:
            add([(m.start(1), m.end(1))], 1)
    for m in _LOWER_CUED.finditer(text):
        first, last = m.group(1).title(), (m.group(2) or "").title()
        if first in names.first and first not in names.ambiguous | names.stop:
            both = last in names.last and last not in names.stop | names.ambiguous
            add([(m.start(1), m.end(2) if both else m.end(1))], 1)
    return hits


_ORG_WORDS = frozenset(
    "Hospital Hospitals Health Healthcare Medical Center Clinic Clinics Pharmacy Pharmacies Labs "
    "Laboratories Pharma Pharmaceuticals Inc LLC Corp Group Foundation University College School "
    "Insurance Mutual Plan Care Services Systems Partners Associates Network Institute Hospice "
    "Home Homes Manor Village Rehab Recovery Therapeutics Bank Church Street Avenue Road County "
    "Memorial Regional Community General Children's Heights Park Valley Assisted Living Senior "
    "Nursing Surgical Dental Family Urgent Behavioral Wellness Pediatrics Orthopedics Oncology "
    "Cardiology Radiology Imaging Diagnostics Dialysis Specialty Specialists Physicians".split()
)


_SAINT = re.compile(r"(?:\bSt\.?|\bSaint|\bSte\.?|\bMt\.?|\bMount|\bFort|\bFt\.?)\s*$")


def _institution(text: str, start: int, end: int, names: NameLists) -> bool:
    """A name that is part of an organisation's or place's name: "St. Luke's", "Maple Grove
    Assisted Living", "Mercy West Hospital".  Organisations are not identifiers of the
    individual, and the rules may need them."""
    if _SAINT.search(text[max(0, start - 7) : start]):
        return True
    after = text[end : end + 30].split()
    nxt = re.sub(r"(?:['’]s)?[^\w]*$", "", after[0]) if after else ""
    return nxt in _ORG_WORDS or nxt in names.stop


def _propagate_names(text: str, found: list[_Hit]) -> list[_Hit]:
    """Once "Maria Lopez" is found, a later "Lopez" or "Maria" alone is the same person."""
    names = load_names()
    words: set[str] = set()
    for h in found:
        if h.kind == "name":
            for w in re.findall(_WORD, text[h.start : h.end]):
                if len(w) > 2 and w not in names.stop:
                    words.add(w)
    if not words:
        return []
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, words))) + r")\b")
    return [_Hit("name", m.start(1), m.end(1), 1) for m in pattern.finditer(text)]


# Spans that are never identifiers even when a pattern above reaches them.
_PROTECTED = re.compile(
    r"\b\d{2,3}\.\d{3}(?:\([a-z0-9]+\))*"  # 164.508(a)(3), 160.103
    r"|\$\s?\d[\d,]*+(?:\.\d+)?(?:\s?(?:k|m|million|billion))?"  # money
    r"|\b\d+(?:\.\d+)?\s?%"
    r"|(?<![\d,])\d[\d,]*+(?:\.\d+)?\s+(?:cents?|dollars?|days?|weeks?|months?|years?|hours?|minutes?|"
    r"patients?|members?|people|records?|mg|mcg|ml|units?)\b",
    re.IGNORECASE,
)


def _detect(text: str) -> list[_Hit]:
    candidates = _numbers(text) + _dates(text) + _places(text) + _names(text)
    # _PROTECTED spans never overlap each other, so the one that could hold a hit is the
    # last one starting at or before it.
    protected = [m.span() for m in _PROTECTED.finditer(text)]
    starts = [p[0] for p in protected]

    def shielded(h: _Hit) -> bool:
        # A bare long number inside money or a citation is not an identifier; a hit
        # announced by a cue or shaped like the kind still wins.
        i = bisect_right(starts, h.start) - 1
        return h.priority == 0 and i >= 0 and h.end <= protected[i][1]

    chosen = _resolve([h for h in candidates if not shielded(h)])
    extra = _propagate_names(text, chosen)
    return _resolve(chosen + extra)


def _resolve(hits: Iterable[_Hit]) -> list[_Hit]:
    """Keep the strongest of overlapping hits: announced by a cue, then longer, then first."""
    ordered = sorted(hits, key=lambda h: (-h.priority, -(h.end - h.start), h.start))
    starts: list[int] = []  # of the kept hits, which never overlap, in text order
    kept: list[_Hit] = []
    for h in ordered:
        i = bisect_right(starts, h.start)
        if i > 0 and kept[i - 1].end > h.start:
            continue
        if i < len(kept) and kept[i].start < h.end:
            continue
        starts.insert(i, h.start)
        kept.insert(i, h)
    return kept


def _key(kind: str, value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.casefold()) or value


def scrub(text: str) -> Scrubbed:
    """``text`` with every identifier found replaced by a typed placeholder.

    The same value gets the same placeholder within one text, so "[NAME_1] called about
    [NAME_1]'s bill" still reads as one person; a surname or first name seen alone after
    the full name gets the full name's placeholder.
    """
    hits = _detect(text)
    numbering: dict[tuple[str, str], int] = {}
    per_kind: dict[str, int] = {}
    name_word_index: dict[str, int] = {}
    redactions: list[Redaction] = []
    pieces: list[str] = []
    last = 0
    for h in hits:
        value = text[h.start : h.end]
        key = (h.kind, _key(h.kind, value))
        if key not in numbering:
            index = None
            if h.kind == "name":
                for w in re.findall(_WORD, value):
                    if w in name_word_index:
                        index = name_word_index[w]
                        break
            if index is None:
                per_kind[h.kind] = per_kind.get(h.kind, 0) + 1
                index = per_kind[h.kind]
            numbering[key] = index
            if h.kind == "name":
                for w in re.findall(_WORD, value):
                    name_word_index.setdefault(w, index)
        placeholder = f"[{_LABEL[h.kind]}_{numbering[key]}]"
        redactions.append(Redaction(h.kind, placeholder, h.start, h.end))
        pieces.append(text[last : h.start])
        pieces.append(placeholder)
        last = h.end
    pieces.append(text[last:])
    return Scrubbed("".join(pieces), tuple(redactions))


# ---------------------------------------------------------------------------------------
# The independent second check.  Broader and simpler than the main pass on purpose: it
# shares no pattern with it, so a gap in one is unlikely to be a gap in the other.

_RESIDUAL: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"(?<![^\s@\[\]])[^\s@\[\]]++@[^\s@\[\]]+\.[a-z]{2,}", re.IGNORECASE)),
    ("url", re.compile(r"(?i)://|\bwww\.|\b\w+\.(?:com|org|net|io|edu|gov)(?:/|\b)")),
    (
        "ip",
        re.compile(
            r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b|(?i:(?<![0-9a-f:])[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){4,}+)"
        ),
    ),
    ("ssn", re.compile(r"\b\d{3}[- ]\d{2}[- ]\d{4}\b")),
    ("phone", re.compile(r"\(\d{3}\)\s*\d{3}|\b\d{3}[.-]\d{3}[.-]\d{4}\b")),
    ("date", re.compile(r"\b\d{1,4}[/-]\d{1,2}[/-]\d{1,4}\b")),
    (
        "date",
        re.compile(
            r"\b(?:January|February|March|April|May|June|July|August|September|October|"
            r"November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?\s+\d{1,2}\b"
        ),
    ),
    (
        "age",
        re.compile(r"(?i)\b(?:9\d|1[01]\d)[- ]?(?:years?|yrs?|y/?o)\b|\baged? (?:9\d|1[01]\d)\b"),
    ),
    ("name", re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+[A-Z][a-z]")),
    (
        "address",
        re.compile(
            r"\b\d+\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|"
            r"Ln|Drive|Way|Court|Ct|Place|Pl)\b"
        ),
    ),
    ("zip", re.compile(r"\b[A-Z]{2}\s+\d{5}\b")),
]
_RESIDUAL_DIGITS = re.compile(r"(?<!\d)(?<!\d[\s./-])\d(?:[\s./-]?\d){6,}+")
_RESIDUAL_OK = re.compile(
    r"^(?:1[0-9]{2}\.\d{3}|\d{4}[-–]\d{2,4})$"  # a section number, a span of years
)


def residual(text: str) -> list[str]:
    """Kinds of identifier that a second, independent check still finds in ``text``."""
    bare = _PLACEHOLDER.sub(" ", text)
    kinds: list[str] = []
    for kind, pattern in _RESIDUAL:
        if kind not in kinds and pattern.search(bare):
            kinds.append(kind)
    for m in _RESIDUAL_DIGITS.finditer(bare):
        before = bare[max(0, m.start() - 2) : m.start()]
        if "$" in before or "," in m.group(0) or _RESIDUAL_OK.match(m.group(0)):
            continue
        if "other_id" not in kinds:
            kinds.append("other_id")
    return [k for k in KINDS if k in kinds]


def ensure_clean(text: str) -> None:
    """Refuse to let ``text`` leave the process while it still looks identifying."""
    left = residual(text)
    if left:
        named = ", ".join(_NOUN[k][1] for k in left)
        raise IdentifierLeakError(f"the description still seems to contain {named}")


def scrub_json(value: Any) -> Any:
    """A copy of a JSON-like value with every string scrubbed (keys are field names, kept)."""
    convert: Callable[[Any], Any] = scrub_json
    if isinstance(value, str):
        return scrub(value).text
    if isinstance(value, dict):
        return {k: convert(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [convert(v) for v in value]
    return value


# Fields of a ``Determination.to_json()`` the product itself makes: labels, citations and the
# law's text with its as-of dates and official addresses, labeled cases, fixed obligations,
# versions, hashes, scores.  They carry nothing a user typed, and scrubbing would damage them
# (an as-of date or a law's URL looks like an identifier), so they are kept as made.
MACHINE_MADE = frozenset(
    {
        "category",
        "authorization_required",
        "status",
        "citations",
        "precedents",
        "obligations",
        "authorization_contents",
        "clarifying_questions",
        "operations_paragraph",
        "agreement",
        "corpus_version",
        "timings_ms",
        "dropped_citations",
        "retrieved",
        "retrieved_scores",
        "redactions",
        "redaction_summary",
        "scrubbed_description",
        "model_id",
        "rules_version",
        "prompt_hash",
    }
)
RULES_MACHINE_MADE = frozenset(
    {"category", "authorization_required", "status", "citations", "trace"}
)


def scrub_determination(determination: dict[str, Any]) -> dict[str, Any]:
    """A determination as it may be stored: every string a user's words could reach (the
    evidence of each fact, flags, the rationale, notices, document fields) scrubbed; what
    the product made kept as made."""
    clean: dict[str, Any] = {
        k: v if k in MACHINE_MADE else scrub_json(v) for k, v in determination.items()
    }
    rules = determination.get("rules")
    if isinstance(rules, dict):
        clean["rules"] = {
            k: v if k in RULES_MACHINE_MADE else scrub_json(v) for k, v in rules.items()
        }
    return clean
