"""A bounded load run: concurrent chat sessions against the running web app on loopback.

Each session is its own browser context (its own Streamlit session, as a second member of
staff on another laptop would be), asks its questions one after another through the chat
input, and waits for the answer's status line. Sessions run at the same time, so the
figures show what one server does when several privacy officers use it at once.

The run is bounded twice, so it always stops by itself: by count (sessions x questions)
and by a wall-clock deadline after which every unanswered question counts as an error.
A real browser is used (Debian's chromium through Playwright) because the cost users feel
includes Streamlit's websocket round trips and re-rendering, which an HTTP probe would miss.
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.timing import percentile
from indexer.errors import TpoError

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
# No background traffic of any kind: the app must work with loopback only, and a browser
# phoning home would hide that (and leak that the tool is in use).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
CHAT_INPUT = "[data-testid='stChatInputTextArea']"
CHAT_MESSAGE = "[data-testid='stChatMessage']"
# Every answer renders a status caption; a failed one renders an error instead.
ANSWERED = "Status:"
FAILED = ("Something went wrong", "Traceback")

# Descriptions staff might type, one per category family, so the load exercises
# different rules, retrievals and precedents rather than one cached path.
QUESTIONS = (
    "A drug company pays us to email patients about its new inhaler.",
    "We send claims with diagnosis codes to the patient's health plan for payment.",
    "Our quality team reviews charts to improve sepsis care.",
    "The hospital wants to sell its patient list to a data broker.",
    "A nurse calls the patient's daughter, who picks up her prescriptions, about the dose.",
    "We report a measles case to the state health department as the law requires.",
)


class LoadTestError(TpoError):
    """The load run cannot start: no app at the address, or no browser."""


@dataclass(frozen=True)
class Answer:
    """One question asked in one session: how long until its answer showed, or why not."""

    session: int
    question: int
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class LoadReport:
    """The figures of one run (the ``tpo load-test --json`` contract)."""

    url: str
    sessions: int
    questions: int
    answers: tuple[Answer, ...]
    wall_seconds: float
    deadline_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def latencies(self) -> list[float]:
        return [a.seconds for a in self.answers if a.error is None]

    @property
    def errors(self) -> list[Answer]:
        return [a for a in self.answers if a.error is not None]

    @property
    def expected(self) -> int:
        return self.sessions * self.questions

    def to_json(self) -> dict[str, Any]:
        lat = self.latencies
        return {
            "url": self.url,
            "sessions": self.sessions,
            "questions_per_session": self.questions,
            "expected_answers": self.expected,
            "answered": len(lat),
            "errors": len(self.errors),
            "error_details": [
                {"session": a.session, "question": a.question, "error": a.error}
                for a in self.errors
            ],
            "latency_s": {
                "p50": round(percentile(lat, 0.5), 3),
                "p95": round(percentile(lat, 0.95), 3),
                "max": round(max(lat, default=0.0), 3),
                "min": round(min(lat, default=0.0), 3),
            },
            "wall_seconds": round(self.wall_seconds, 3),
            "deadline_seconds": self.deadline_seconds,
            "throughput_answers_per_s": round(len(lat) / self.wall_seconds, 3)
            if self.wall_seconds > 0
            else 0.0,
            **self.extra,
        }


def check_app(url: str, timeout: float = 5.0) -> None:
    """Fail with what to do when nothing answers at ``url`` (Streamlit's health endpoint)."""
    health = url.rstrip("/") + "/_stcore/health"
    try:
        with urllib.request.urlopen(health, timeout=timeout) as response:
            if response.status == 200:
                return
            problem = f"HTTP {response.status}"
    except (urllib.error.URLError, OSError) as exc:
        problem = str(getattr(exc, "reason", exc))
    raise LoadTestError(
        f"no tpo-check web app answers at {url} ({problem})",
        "Start it with `tpo serve --port N` and pass --url http://127.0.0.1:N.",
    )


async def _ask(page: Page, text: str, timeout_s: float) -> str | None:
    """Type one question and wait for one more answered message; an error text or None.

    Answers and failures are counted before the question goes in, so an earlier
    failure still on the page is not taken for this question's.
    """
    answered = page.locator(CHAT_MESSAGE).filter(has_text=ANSWERED)
    failed = page.locator("[data-testid='stException']").or_(
        page.get_by_text(re.compile("|".join(map(re.escape, FAILED))))
    )
    answers_before, failures_before = await answered.count(), await failed.count()
    box = page.locator(CHAT_INPUT)
    await box.fill(text)
    await box.press("Enter")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await answered.count() > answers_before:
            return None
        if await failed.count() > failures_before:
            return (await failed.last.inner_text())[:200]
        await asyncio.sleep(0.1)
    return f"no answer within {timeout_s:.0f} s"


async def _session(
    browser: Browser, url: str, n: int, questions: int, deadline: float
) -> list[Answer]:
    out: list[Answer] = []
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)[:200]))
    try:
        await page.goto(url, timeout=max(1.0, deadline - time.monotonic()) * 1000)
        await page.locator(CHAT_INPUT).wait_for(
            timeout=max(1.0, deadline - time.monotonic()) * 1000
        )
        for q in range(questions):
            left = deadline - time.monotonic()
            if left <= 0:
                out.append(Answer(n, q, 0.0, "deadline passed before it was asked"))
                continue
            # Different sessions start at different questions: no two ask the same thing at once.
            text = QUESTIONS[(n + q) % len(QUESTIONS)]
            start = time.perf_counter()
            problem = await _ask(page, text, left)
            if problem is None and page_errors:
                problem = f"browser error: {page_errors[-1]}"
            out.append(Answer(n, q, time.perf_counter() - start, problem))
    except Exception as exc:  # a session that breaks counts its unanswered questions as errors
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        out.extend(Answer(n, q, 0.0, message) for q in range(len(out), questions))
    finally:
        await context.close()
    return out


async def _run(url: str, sessions: int, questions: int, deadline_s: float) -> LoadReport:
    from playwright.async_api import async_playwright

    start = time.perf_counter()
    deadline = time.monotonic() + deadline_s
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            results = await asyncio.gather(
                *(_session(browser, url, n, questions, deadline) for n in range(sessions))
            )
        finally:
            await browser.close()
    answers = tuple(a for r in results for a in r)
    return LoadReport(url, sessions, questions, answers, time.perf_counter() - start, deadline_s)


def run_load(
    url: str = "http://127.0.0.1:8501",
    sessions: int = 4,
    questions: int = 3,
    deadline_s: float = 300.0,
) -> LoadReport:
    """Run ``sessions`` concurrent chats of ``questions`` each against the app at ``url``."""
    if sessions < 1 or questions < 1:
        raise LoadTestError("sessions and questions must be at least 1")
    if not CHROMIUM.is_file():
        raise LoadTestError(
            f"{CHROMIUM} is missing", "Install Debian's browser: apt-get install -y chromium"
        )
    try:
        import playwright  # noqa: F401
    except ImportError as exc:
        raise LoadTestError(
            "Playwright for Python is not installed", "pip install playwright==1.65.2"
        ) from exc
    check_app(url)
    return asyncio.run(_run(url, sessions, questions, deadline_s))
