"""What every ``tpo`` command shares: consoles, options, services, JSON output, error handling.

Command modules (``app/cli.py`` and the ``app/cli_*.py`` that register themselves on it)
import from here, so none of them imports another.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.services import Services
from app.settings import Settings
from indexer.errors import TpoError

err = Console(stderr=True, soft_wrap=True)
out = Console()

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
MirrorOpt = Annotated[
    Path | None,
    typer.Option(
        "--mirror",
        help="Folder with the corpus files (default: TPO_CORPUS_MIRROR, then ../shared/corpus).",
        file_okay=False,
    ),
]
DownloadOpt = Annotated[
    bool, typer.Option("--download", help="Ignore mirrors; download from the official addresses.")
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Pin the eCFR to this date (YYYY-MM-DD) when "
        "downloading; default the latest date the eCFR serves.",
    ),
]


def services(mirror: Path | None = None) -> Services:
    settings = Settings()
    if mirror is not None:
        settings = settings.model_copy(update={"corpus_mirror": mirror})
    return Services(settings)


def emit(data: Any, as_json: bool, render: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        render()


@contextmanager
def progress_bars(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """Progress bars on stderr for the long steps (embedding, writing vectors)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not enabled or not err.is_terminal,
    ) as bars:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                label = {"embed": "embedding passages", "write": "writing vectors"}.get(
                    stage, stage
                )
                tasks[stage] = bars.add_task(label, total=total)
            bars.update(tasks[stage], completed=done, total=total)

        yield update


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except TpoError as exc:
        err.print(f"[bold red]error:[/] {exc.user_message()}", highlight=False)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("interrupted; the index still serves its previous version")
        raise typer.Exit(130) from None
    except Exception as exc:
        if os.environ.get("TPO_DEBUG"):
            raise
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n"
            "  → this is a bug; run again with TPO_DEBUG=1 and report the traceback.",
            highlight=False,
        )
        raise typer.Exit(3) from None
