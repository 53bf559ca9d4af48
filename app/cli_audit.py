"""`tpo audit`: check, list, export the audit trail, and record a reviewer's ruling."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from app.audit import AuditLog, AuditRecord
from app.cli_common import JsonOpt, emit, err, out, services, user_errors
from app.reviews import record_ruling
from app.settings import Settings
from indexer.errors import UserInputError

audit_app = typer.Typer(
    help="The audit trail: verify its hash chain, list, export, record rulings.",
    no_args_is_help=True,
)

KindOpt = Annotated[str | None, typer.Option("--kind", help="determination | ruling | batch")]
StatusOpt = Annotated[
    str | None, typer.Option("--status", help="confirmed | needs_review | insufficient_facts")
]
UserOpt = Annotated[str | None, typer.Option("--user", help="Who asked (or ruled).")]
CategoryOpt = Annotated[str | None, typer.Option("--category", help="A LABELS.md category.")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="From this date/time (UTC).")]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Up to this date (the whole day) or time (UTC).")
]
TextOpt = Annotated[
    str | None, typer.Option("--text", help="Words the (scrubbed) description contains.")
]
LimitOpt = Annotated[int | None, typer.Option("--limit", help="Only the newest N.", min=0)]


def _log() -> tuple[Settings, AuditLog]:
    svc = services()
    return svc.settings, svc.audit


def _filters(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@audit_app.command("verify")
def audit_verify(as_json: JsonOpt = False) -> None:
    """Re-compute the hash chain; exit 1 naming every edited, inserted or deleted record."""
    with user_errors():
        _settings, log = _log()
        report = log.verify()

        def render() -> None:
            if report.ok:
                out.print(
                    f"audit trail intact: {report.checked} record(s); head seq "
                    f"{report.head_seq}, hash {report.head_hash}",
                    highlight=False,
                )
                return
            err.print(
                f"[bold red]audit trail broken:[/] {len(report.problems)} problem(s) in "
                f"{report.checked} record(s)",
                highlight=False,
            )
            for p in report.problems:
                err.print(f"  {p.kind:9} seq {p.seq}: {p.detail}", highlight=False)

        emit(report.to_json(), as_json, render)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("list")
def audit_list(
    kind: KindOpt = None,
    status: StatusOpt = None,
    user: UserOpt = None,
    category: CategoryOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    text: TextOpt = None,
    limit: LimitOpt = 50,
    queue: Annotated[
        bool, typer.Option("--queue", help="Only determinations waiting for a reviewer.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Records oldest first (the newest 50 unless --limit says otherwise)."""
    with user_errors():
        _settings, log = _log()
        if queue:
            recs = log.review_queue()
        else:
            recs = log.records(
                **_filters(
                    kind=kind,
                    status=status,
                    user=user,
                    category=category,
                    since=since,
                    until=until,
                    text=text,
                ),
                limit=limit,
            )

        def render() -> None:
            if not recs:
                out.print("no records match")
                return
            table = Table("id", "time (UTC)", "user", "kind", "answer", "status", "description")
            for r in recs:
                answer = _answer(r)
                table.add_row(
                    str(r.id),
                    r.time[:19].replace("T", " "),
                    r.user,
                    r.kind + (f" → {r.refers_to}" if r.refers_to else ""),
                    answer,
                    r.status or "",
                    r.description if len(r.description) <= 80 else r.description[:77] + "…",
                )
            out.print(table)

        emit({"records": [r.to_json() for r in recs]}, as_json, render)


def _answer(r: AuditRecord) -> str:
    if r.category is None:
        return ""
    auth = {True: "authorization", False: "no authorization", None: "?"}[r.authorization_required]
    return f"{r.category}, {auth}"


@audit_app.command("export")
def audit_export(
    fmt: Annotated[str, typer.Option("--format", help="csv | json")] = "csv",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here (default: standard output).")
    ] = None,
    kind: KindOpt = None,
    status: StatusOpt = None,
    user: UserOpt = None,
    category: CategoryOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    text: TextOpt = None,
    limit: LimitOpt = None,
) -> None:
    """Write the records (all, or those the filters select) as CSV or JSON."""
    with user_errors():
        if fmt not in ("csv", "json"):
            raise UserInputError(f"unknown format {fmt!r}", "Use --format csv or --format json.")
        _settings, log = _log()
        filters = _filters(
            kind=kind,
            status=status,
            user=user,
            category=category,
            since=since,
            until=until,
            text=text,
            limit=limit,
        )
        if out_file is None:
            n = log.export(fmt, sys.stdout, **filters)  # type: ignore[arg-type]
        else:
            tmp = out_file.with_name(out_file.name + ".part")
            try:
                with tmp.open("w", encoding="utf-8", newline="") as fh:
                    n = log.export(fmt, fh, **filters)  # type: ignore[arg-type]
                tmp.replace(out_file)
            except OSError as exc:
                raise UserInputError(
                    f"cannot write {out_file}: {exc.strerror or exc}",
                    "Choose a folder you can write to, with free space.",
                ) from None
        err.print(f"exported {n} record(s)" + (f" to {out_file}" if out_file else ""))


@audit_app.command("rule")
def audit_rule(
    determination_id: Annotated[int, typer.Argument(help="The id `tpo audit list` shows.")],
    category: Annotated[str, typer.Option("--category", help="The category you decide.")],
    authorization: Annotated[
        bool,
        typer.Option(
            "--authorization/--no-authorization",
            help="Whether the patient's authorization is required.",
        ),
    ],
    note: Annotated[str, typer.Option("--note", help="Why; it is kept with the ruling.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Record a reviewer's ruling; it also becomes a precedent for similar questions."""
    with user_errors():
        settings, log = _log()
        ruling = record_ruling(
            log,
            settings.reviews_file,
            determination_id,
            reviewer=settings.requester,
            category=category,
            authorization_required=authorization,
            note=note,
        )
        emit(
            ruling.to_json(),
            as_json,
            lambda: out.print(
                f"ruling {ruling.id} on determination {determination_id}: {_answer(ruling)} "
                f"(by {ruling.user}); added to {settings.reviews_file}",
                highlight=False,
            ),
        )


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
