"""The outline parser places markers by the drafting rules, not by guessing."""

from __future__ import annotations

from indexer.outline import build_outline, definition_term


def paths(paragraphs: list[str], **kw: bool) -> list[tuple[str, ...]]:
    return [leaf.path for leaf in build_outline(paragraphs, **kw)]


def test_i_after_h_is_a_letter_when_a_numbered_child_follows() -> None:
    got = paths(["(h) Standard: organ donation.", "(i) Standard: research. Text", "(1) Permitted."])
    assert got == [("h",), ("i", "1")]


def test_i_under_a_numbered_paragraph_is_roman() -> None:
    got = paths(["(h) Heading", "(1) Lead-in:", "(i) first;", "(ii) second."])
    assert got == [("h", "1", "i"), ("h", "1", "ii")]


def test_v_after_iv_stays_roman_even_after_u() -> None:
    paras = ["(u) Heading", "(1) Lead:", "(i) a;", "(ii) b;", "(iii) c;", "(iv) d;", "(v) e."]
    assert paths(paras)[-1] == ("u", "1", "v")


def test_compound_markers_open_every_level() -> None:
    got = paths(["(e)(1) Standard: Business associate contracts.", "(2) Implementation."])
    assert got == [("e", "1"), ("e", "2")]


def test_first_child_that_starts_inline_after_a_heading_is_split() -> None:
    leaves = build_outline(
        ["(c) Implementation specifications: TPO. (1) A covered entity may use.", "(2) Next."]
    )
    assert [leaf.path for leaf in leaves] == [("c", "1"), ("c", "2")]
    assert leaves[0].text == "A covered entity may use."
    assert leaves[0].context == ("Implementation specifications: TPO.",)


def test_a_paragraph_reference_in_running_text_is_not_split() -> None:
    leaves = build_outline(["(a) As described in paragraph (1) of this section, text.", "(b) B."])
    assert [leaf.path for leaf in leaves] == [("a",), ("b",)]
    assert "paragraph (1) of this section" in leaves[0].text


def test_a_reserved_range_is_skipped_and_lettering_continues() -> None:
    got = paths(["(a) Definitions. As used:", "(b)-(d) [Reserved]", "(e)(1) Standard: X."])
    assert got == [("a",), ("e", "1")]


def test_definitions_open_their_term_and_number_their_paragraphs() -> None:
    leaves = build_outline(
        [
            "As used in this subpart:",
            "Marketing: (1) Except as provided, marketing means a communication.",
            "(2) Marketing does not include a communication made:",
            "(i) To provide refill reminders.",
            "(ii) For the following purposes:",
            "(A) For treatment;",
            "Research means a systematic investigation.",
        ],
        definitions=True,
    )
    assert [leaf.path for leaf in leaves] == [
        ('"marketing"', "1"),
        ('"marketing"', "2", "i"),
        ('"marketing"', "2", "ii", "A"),
        ('"research"',),
    ]
    assert leaves[2].context == (
        "As used in this subpart:",
        "Marketing:",
        "Marketing does not include a communication made:",
        "For the following purposes:",
    )


def test_us_code_nests_capital_letters_before_roman_numerals() -> None:
    got = paths(
        ["(a) Marketing", "(1) In general", "Text.", "(2) Payment", "(A)", "(i) such;"], usc=True
    )
    assert got == [("a", "1"), ("a", "2", "A", "i")]


def test_a_us_code_heading_runs_into_its_text_with_a_dash() -> None:
    leaves = build_outline(["(a) Marketing", "(1) In general", "A communication."], usc=True)
    assert leaves[0].text == "In general — A communication."


def test_definition_terms_are_short_phrases_before_means() -> None:
    assert definition_term("Psychotherapy notes means notes recorded") == "Psychotherapy notes"
    assert definition_term("Group health plan (also see definition) means a plan") == (
        "Group health plan"
    )
    assert definition_term("Marketing: (1) Except as provided") == "Marketing"
    assert definition_term("A covered entity may use or disclose, which means that") is None
    assert definition_term("(a) Standard means") is None


def test_an_excerpt_that_skips_paragraphs_still_places_the_later_ones() -> None:
    got = paths(["(a) First.", "(c) Heading. (1) One.", "(2) Two.", "(4) Four:", "(i) sub;"])
    assert got == [("a",), ("c", "1"), ("c", "2"), ("c", "4", "i")]
