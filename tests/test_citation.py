"""Citation: parse ⇄ format round trip and the prefix matching of LABELS.md."""

from __future__ import annotations

import pytest

from indexer.errors import CitationError
from indexer.models import Citation

CANONICAL = [
    "45 CFR 164.508(a)(3)",
    "45 CFR 164.501",
    '45 CFR 164.501 "marketing" (2)(ii)(A)',
    '45 CFR 164.501 "health care operations" (6)(v)',
    '45 CFR 164.501 "research"',
    '45 CFR 164.504(a) "summary health information" (1)',
    "45 CFR 164.502(a)(5)(ii)(B)(2)(iii)",
    "45 CFR 160.103",
    "42 U.S.C. 17936(a)(2)(A)(i)",
    "42 U.S.C. 17935",
]


@pytest.mark.parametrize("text", CANONICAL)
def test_canonical_forms_round_trip(text: str) -> None:
    assert Citation.parse(text).format() == text
    assert Citation.parse(Citation.parse(text).format()) == Citation.parse(text)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("45 CFR § 164.508(a)(3)", "45 CFR 164.508(a)(3)"),
        ("§ 164.508(a)(3)", "45 CFR 164.508(a)(3)"),
        ("164.506(c)", "45 CFR 164.506(c)"),
        ("45 C.F.R. 164.501", "45 CFR 164.501"),
        ('45 CFR 164.501 "Marketing"(2)(i)', '45 CFR 164.501 "marketing" (2)(i)'),
        (
            "45 CFR 164.501 “Health  Care Operations” (1)",
            '45 CFR 164.501 "health care operations" (1)',
        ),
        ("42 USC 17936(a)", "42 U.S.C. 17936(a)"),
        ("42 U.S.C. § 17935(d)(1)", "42 U.S.C. 17935(d)(1)"),
    ],
)
def test_the_forms_people_write_are_read(written: str, canonical: str) -> None:
    assert Citation.parse(written).format() == canonical


@pytest.mark.parametrize("bad", ["", "marketing", "45 CFR", "164.508 (a)(3", "HIPAA 164"])
def test_text_that_is_not_a_citation_is_refused(bad: str) -> None:
    with pytest.raises(CitationError):
        Citation.parse(bad)


@pytest.mark.parametrize(
    ("predicted", "expected", "match"),
    [
        ("45 CFR 164.508(a)(3)(i)", "45 CFR 164.508(a)(3)", True),
        ("45 CFR 164.508(a)(3)", "45 CFR 164.508(a)(3)(i)(A)", True),
        ("45 CFR 164.508(a)(3)", "45 CFR 164.508", True),
        ("45 CFR 164.508(a)(3)", "45 CFR 164.508(a)(4)", False),
        ("45 CFR 164.508(a)(3)", "45 CFR 164.506(a)(3)", False),
        ('45 CFR 164.501 "marketing" (2)(i)', "45 CFR 164.501", True),
        ('45 CFR 164.501 "marketing" (2)(i)', '45 CFR 164.501 "marketing"', True),
        ('45 CFR 164.501 "marketing" (2)(i)', '45 CFR 164.501 "marketing" (2)(ii)', False),
        ('45 CFR 164.501 "marketing"', '45 CFR 164.501 "treatment"', False),
        ("42 U.S.C. 17936(a)", "45 CFR 164.501", False),
    ],
)
def test_matching_is_same_section_and_one_path_a_prefix_of_the_other(
    predicted: str, expected: str, match: bool
) -> None:
    a, b = Citation.parse(predicted), Citation.parse(expected)
    assert a.matches(b) is match
    assert b.matches(a) is match


def test_term_is_the_defined_term_of_the_path() -> None:
    assert Citation.parse('45 CFR 164.501 "marketing" (2)(i)').term == "marketing"
    assert Citation.parse("45 CFR 164.508(a)(3)").term is None


def test_an_ecfr_download_address_is_shown_as_the_page_people_read() -> None:
    from indexer.models import page_url

    api = "https://www.ecfr.gov/api/versioner/v1/full/{date}/title-45.xml?part=164&section=164.508"
    assert page_url(api) == "https://www.ecfr.gov/current/title-45/part-164/section-164.508"
    other = "https://www.hhs.gov/hipaa/for-professionals/faq/1515/index.html"
    assert page_url(other) == other
