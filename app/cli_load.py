"""``tpo load-test``: concurrent chat sessions against the running web app, with figures.

A privacy office shares one server; this says whether it stays responsive when several
people ask at once, before they find out the hard way. It drives a real browser, so it
needs Debian's chromium and Playwright (a test dependency, imported only here).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from app.cli_common import JsonOpt, emit, out, user_errors


def register(app: typer.Typer) -> None:
    app.command("load-test")(load_test)


def load_test(
    sessions: Annotated[
        int, typer.Option("--sessions", min=1, max=32, help="Concurrent chat sessions.")
    ] = 4,
    questions: Annotated[
        int, typer.Option("--questions", min=1, max=50, help="Questions each session asks.")
    ] = 3,
    url: Annotated[
        str, typer.Option("--url", help="The running app (`tpo serve`).")
    ] = "http://127.0.0.1:8501",
    deadline: Annotated[
        float,
        typer.Option("--deadline", min=1.0, help="Stop after this many seconds, whatever is left."),
    ] = 300.0,
    as_json: JsonOpt = False,
) -> None:
    """Concurrent chat sessions against the running web app: latency, errors, throughput."""
    from evaluation.load import run_load

    with user_errors():
        report = run_load(url, sessions, questions, deadline)
        data = report.to_json()

        def render() -> None:
            lat = data["latency_s"]
            table = Table("measure", "value")
            table.add_row("sessions x questions", f"{sessions} x {questions}")
            table.add_row("answered", f"{data['answered']} of {data['expected_answers']}")
            table.add_row("errors", str(data["errors"]))
            table.add_row(
                "latency p50 / p95 / max", f"{lat['p50']} / {lat['p95']} / {lat['max']} s"
            )
            table.add_row("throughput", f"{data['throughput_answers_per_s']} answers/s")
            table.add_row("wall time", f"{data['wall_seconds']} s (deadline {deadline:.0f} s)")
            out.print(table)
            for e in data["error_details"]:
                out.print(f"session {e['session']} question {e['question']}: {e['error']}")

        emit(data, as_json, render)
    if data["errors"]:  # outside user_errors: an exit code, not an internal error
        raise typer.Exit(1)
