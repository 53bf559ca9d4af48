"""The web chat in a real browser: `tpo serve` on loopback, driven by Debian's chromium.

What AppTest cannot show: the page loads over the websocket, the chat input takes typed
text, the badge and the citation cards render and open, the clarifying-question form
submits, and the page is usable at a laptop's and a phone's width (screenshots are saved
to /tmp/tpo-screens for a person to look at). The timings are printed for the issue note.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from tests.browser import (
    LAPTOP,
    PHONE,
    SCREENS,
    build_small_index,
    launch_chromium,
    served_app,
)
from tests.conftest import needs_corpus

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [
    needs_corpus,
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/usr/bin/chromium").is_file(), reason="no /usr/bin/chromium"),
]

CHAT_INPUT = "[data-testid='stChatInputTextArea']"
MESSAGE = "[data-testid='stChatMessage']"
EXPANDER = "[data-testid='stExpander']"
PAID = "A drug company pays us to email patients about its new inhaler."
OWN_PROGRAM = "We want to send patients a mailer about our new weight loss program."
NO_PAYMENT = "No one outside pays us anything for it."
ANSWER_TIMEOUT_MS = 180_000


def answered(page: object, n: int) -> None:
    """Wait until ``n`` assistant answers (each has a status caption) are on the page."""
    page.wait_for_function(  # type: ignore[attr-defined]
        """n => [...document.querySelectorAll("[data-testid='stChatMessage']")]
                 .filter(m => m.innerText.includes('Status:')).length >= n""",
        arg=n,
        timeout=ANSWER_TIMEOUT_MS,
    )


def ask(page: object, text: str, n: int) -> float:
    """Type a question, press Enter, wait for answer number ``n``; seconds it took."""
    box = page.locator(CHAT_INPUT)  # type: ignore[attr-defined]
    box.fill(text)
    start = time.perf_counter()
    box.press("Enter")
    answered(page, n)
    return time.perf_counter() - start


def shoot(page: object, name: str) -> Path:
    """The whole conversation: Streamlit scrolls its main area itself, so a full-page
    screenshot shows one screen; the viewport is stretched to the content for the shot."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / name
    size = page.viewport_size  # type: ignore[attr-defined]
    height = page.evaluate(  # type: ignore[attr-defined]
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stMainBlockContainer], section')].map(e => e.scrollHeight), 0)"
    )
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height + 200)})  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    page.set_viewport_size(size)  # type: ignore[attr-defined]
    return path


def test_ask_see_the_badge_open_a_card_answer_a_question_and_shoot_both_widths(
    tmp_path: Path,
) -> None:
    env = build_small_index(tmp_path)
    with (
        served_app(env, tmp_path / "serve.log") as app,
        playwright_sync.sync_playwright() as pw,
    ):
        browser = launch_chromium(pw)
        page = browser.new_page(viewport=LAPTOP)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(app.url)
        page.locator(CHAT_INPUT).wait_for(timeout=60_000)
        first = ask(page, PAID, 1)
        cold = time.monotonic() - app.started

        last = page.locator(MESSAGE).last
        # The badge: the category and the authorization verdict, in words a person reads.
        badge = last.get_by_text(re.compile(r"marketing\s*—\s*authorization required"))
        assert badge.is_visible()
        # The cards arrive after the status line (Streamlit sends elements as they are drawn).
        card = last.locator(EXPANDER).filter(has_text='45 CFR 164.501 "marketing"').first
        card.wait_for(timeout=30_000)
        card.locator("summary").click()
        # Opened, the card shows the passage text itself and its official source.
        card.get_by_text("Official source").wait_for(timeout=10_000)
        assert "marketing" in card.inner_text().lower()
        shoot(page, "1-marketing-card-open-laptop.png")

        second = ask(page, OWN_PROGRAM, 2)
        last = page.locator(MESSAGE).last
        assert "insufficient facts" in last.inner_text()
        form = last.locator("[data-testid='stForm']")
        form.wait_for(timeout=30_000)
        shoot(page, "2-clarifying-form-laptop.png")
        form.locator("input").first.fill(NO_PAYMENT)
        start = time.perf_counter()
        form.get_by_role("button", name=re.compile("re-check", re.I)).click()
        answered(page, 3)
        third = time.perf_counter() - start
        last = page.locator(MESSAGE).last
        text = last.inner_text()
        # The answer supplied the missing fact: the rules now decide (see test_ui_ask.py).
        assert "insufficient facts" not in text
        assert re.search(r"health care operations\s*—", text), text
        # Confirmed, or under review when a similar case weighs the other way (test_ui_ask.py).
        assert re.search(r"Status: (confirmed|needs review)", text), text
        assert "Traceback" not in page.content() and not errors
        shoot(page, "3-rechecked-laptop.png")

        page.set_viewport_size(PHONE)
        page.wait_for_timeout(500)
        shoot(page, "4-rechecked-phone.png")
        page.evaluate("window.scrollTo(0, 0)")
        shoot(page, "5-top-phone.png")
        browser.close()

    print(
        f"\nserve→ready {app.ready - app.started:.1f} s; serve→first answer (cold) {cold:.1f} s; "
        f"first question {first:.2f} s; later answers {second:.2f} s, {third:.2f} s (re-check); "
        f"screenshots in {SCREENS}"
    )
    shutil.copy(app.log, SCREENS / "serve.log")
    assert first < 120 and second < 30 and third < 30
