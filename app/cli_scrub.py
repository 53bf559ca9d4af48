"""``tpo scrub`` and ``tpo scrub-eval``: the identifier scrubber, from the command line.

``scrub`` shows what would leave the process (the scrubbed text) and what was taken
out (kinds and placeholders, never the values).  ``scrub-eval`` measures recall and
precision on synthetic sentences; the held-out family B is the default because it is
the one the scrubber was not tuned on.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from app.cli_common import JsonOpt, emit, err, out, user_errors
from app.scrub import residual, scrub
from indexer.errors import UserInputError


def register(app: typer.Typer) -> None:
    app.command("scrub")(scrub_command)
    app.command("scrub-eval")(scrub_eval_command)


def scrub_command(
    text: Annotated[str, typer.Argument(help='The description; "-" reads stdin.')],
    as_json: JsonOpt = False,
) -> None:
    """Replace the identifiers of 45 CFR 164.514(b)(2) in TEXT with typed placeholders."""
    with user_errors():
        if text == "-":
            text = sys.stdin.read()
        if not text.strip():
            raise UserInputError("nothing to scrub", 'Pass the description: tpo scrub "…"')
        result = scrub(text)
        left = residual(result.text)
        data = result.to_json() | {"residual": left}

        def render() -> None:
            out.print(result.text, highlight=False, markup=False, soft_wrap=True)
            err.print(result.summary(), highlight=False)
            for r in result.redactions:
                err.print(f"  {r.placeholder:14} {r.kind}", highlight=False)
            if left:
                err.print(
                    "[bold yellow]warning:[/] a second check still finds "
                    + ", ".join(left)
                    + "; this text would not be sent anywhere",
                    highlight=False,
                )
            if result.only_placeholders():
                err.print("nothing but identifiers: there is nothing left to classify")

        emit(data, as_json, render)


def scrub_eval_command(
    n: Annotated[int, typer.Option("--n", min=1, help="Sentences per kind.")] = 300,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    family: Annotated[
        str, typer.Option("--family", help="B: held out (reported); A: tuning set.")
    ] = "B",
    as_json: JsonOpt = False,
) -> None:
    """Recall and precision per kind on synthetic staff sentences with gold spans."""
    with user_errors():
        if family not in ("A", "B"):
            raise UserInputError(f"unknown family {family!r}", "Use --family A or --family B.")
        # Faker is imported here: the scrubber itself never needs it.
        from evaluation.phi_eval import run

        report = run(n, seed, "A" if family == "A" else "B")
        data = report.to_json()

        def render() -> None:
            table = Table(title=f"scrubber on family {family}, seed {seed}, {n} per kind")
            for col in ("kind", "gold", "recall", "precision"):
                table.add_column(col, justify="left" if col == "kind" else "right")
            for kind, s in data["per_kind"].items():
                table.add_row(kind, str(s["gold"]), f"{s['recall']:.3f}", f"{s['precision']:.3f}")
            o = data["overall"]
            table.add_row("overall", str(o["gold"]), f"{o['recall']:.3f}", f"{o['precision']:.3f}")
            out.print(table)
            ka = data["kind_agnostic"]
            out.print(
                f"kind-agnostic: recall {ka['recall']:.4f}, fully removed "
                f"{ka['fully_removed']:.4f}, precision {ka['precision']:.4f}; "
                f"{data['sentences_with_a_leftover']} sentences kept part of an identifier, "
                f"{data['of_which_stopped_by_residual_check']} of them stopped by the "
                "residual check",
                highlight=False,
            )

        emit(data, as_json, render)
