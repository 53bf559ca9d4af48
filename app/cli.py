"""The ``tpo`` command: a thin face over the indexer and (later) the classifier.

Every command takes ``--json`` and then prints one JSON document on stdout;
progress and messages go to stderr.  Errors a user can fix are printed as one
clear message with what to do, and the exit code is 2; no traceback is shown
unless ``TPO_DEBUG=1``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from app.cli_common import (
    AsOfOpt,
    DownloadOpt,
    JsonOpt,
    MirrorOpt,
    emit,
    err,
    out,
    progress_bars,
    services,
    user_errors,
)
from app.models import Obligation
from app.settings import Settings
from indexer.errors import TpoError, UserInputError

app = typer.Typer(
    help="tpo-check: what a use or disclosure of PHI is under HIPAA, cited.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="Build, update and inspect the corpus index.", no_args_is_help=True)
app.add_typer(index_app, name="index")
eval_app = typer.Typer(help="Evaluate against labeled scenarios.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


if TYPE_CHECKING:
    from app.impact import ImpactReport


def _run_index(
    build: bool, mirror: Path | None, download: bool, as_of: str | None, as_json: bool
) -> None:
    from app.update_flow import update_with_impact

    with user_errors():
        svc = services(mirror)
        impact: ImpactReport | None = None
        with progress_bars() as bar:
            if build:
                manifest, snapshot = svc.read_corpus(download=download, as_of=as_of)
                report = svc.indexer(bar).build(snapshot, manifest)
            else:
                # An update re-checks the past answers and labeled scenarios whose citations
                # a changed or removed paragraph touches, on the old version and the new.
                result = update_with_impact(svc, bar, "none", download, as_of)
                report, impact = result.report, result.impact
        data = report.to_json()
        if not build:
            data["impact"] = impact.to_json() if impact else None

        def render() -> None:
            verb = "built" if build else ("updated to" if report.created else "unchanged at")
            out.print(
                f"index {verb} {report.version}: {report.passages} passages; "
                f"added {data['added']}, changed {data['changed']}, removed "
                f"{data['removed']}; embedded {report.embedded} in {report.seconds:.1f} s"
            )
            for c in report.changes[:50]:
                out.print(f"  {c.change:8} {c.citation}", highlight=False)
            if len(report.changes) > 50:
                out.print(f"  … {len(report.changes) - 50} more (use --json for all)")
            if impact is not None:
                _render_impact(impact)

        emit(data, as_json, render)


def _render_impact(impact: ImpactReport) -> None:
    counts = impact.to_json()["counts"]
    out.print(
        f"change impact: {counts['determinations']} recorded determination(s) and "
        f"{counts['scenarios']} labeled scenario(s) cite a changed paragraph; "
        f"{counts['moved']} answer(s) moved",
        highlight=False,
    )
    for a in impact.affected:
        if a.moved:
            out.print(
                f"  [yellow]moved[/] {a.kind} {a.id}: {'; '.join(a.why_moved)} "
                f"(cites {', '.join(a.citations_touched)})",
                highlight=False,
            )


@index_app.command("build")
def index_build(
    mirror: MirrorOpt = None,
    download: DownloadOpt = False,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Read every source and build a new corpus version, embedding every passage."""
    _run_index(True, mirror, download, as_of, as_json)


@index_app.command("update")
def index_update(
    mirror: MirrorOpt = None,
    download: DownloadOpt = False,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-read the sources; embed only what changed; report changes by citation."""
    _run_index(False, mirror, download, as_of, as_json)


@index_app.command("status")
def index_status(as_json: JsonOpt = False) -> None:
    """The current corpus version, its passages and sources."""
    with user_errors():
        svc = services()
        current = svc.db.current()
        data: dict[str, Any] = {
            "version": current.id if current else None,
            "created": current.created if current else None,
            "passages": current.passages if current else 0,
            "embedder": current.embedder if current else None,
            "sources": current.sources if current else [],
            "versions": [
                {"id": v.id, "created": v.created, "passages": v.passages, **v.report}
                for v in svc.db.all()
            ],
        }

        def render() -> None:
            if current is None:
                out.print("no index yet: run `tpo index build`")
                return
            out.print(
                f"version {current.id} ({current.created}), {current.passages} passages, "
                f"embedder {current.embedder}"
            )
            table = Table("source", "as of", "passages", "hash")
            for s in current.sources:
                table.add_row(s["id"], s["as_of"], str(s["passages"]), s["hash"])
            out.print(table)

        emit(data, as_json, render)


@index_app.command("diff")
def index_diff(v1: str, v2: str, as_json: JsonOpt = False) -> None:
    """Citations changed between two versions, old and new text side by side."""
    from indexer.changes import counts
    from indexer.update import diff_versions

    with user_errors():
        changes = diff_versions(services().db, v1, v2)
        data = {"from": v1, "to": v2, **counts(changes), "changes": [c.to_json() for c in changes]}

        def render() -> None:
            out.print(f"{v1} → {v2}: {len(changes)} citations changed")
            for c in changes:
                table = Table(title=f"{c.change}: {c.citation}", show_lines=True, expand=True)
                table.add_column(v1, ratio=1)
                table.add_column(v2, ratio=1)
                table.add_row(c.old_text or "—", c.new_text or "—")
                out.print(table)

        emit(data, as_json, render)


@app.command("search")
def search(
    query: str, k: Annotated[int, typer.Option("-k", min=1, max=100)] = 5, as_json: JsonOpt = False
) -> None:
    """Hybrid search (dense + BM25) of the current corpus version."""
    with user_errors():
        version, hits = services().searcher.search(query, k=k)
        data = {"query": query, "version": version, "hits": [h.to_json() for h in hits]}

        def render() -> None:
            for i, h in enumerate(hits, 1):
                p = h.passage
                label = p.ref if p.is_law else f"{p.ref} [{p.kind.value}, not law]"
                out.print(
                    f"[bold]{i}. {label}[/]  score {h.score:.4f} (dense "
                    f"#{h.dense_rank or '-'}, keyword #{h.keyword_rank or '-'})",
                    highlight=False,
                )
                out.print(f"   {p.text[:400]}", highlight=False)

        emit(data, as_json, render)


def _auth_label(required: bool) -> str:
    return "AUTHORIZATION REQUIRED" if required else "no authorization needed"


def _print_duties(obligations: Sequence[Obligation], questions: Sequence[str]) -> None:
    for o in obligations:
        out.print(f"obligation: {o.text} [{o.citation}]", highlight=False)
    for q in questions:
        out.print(f"[yellow]question:[/] {q}", highlight=False)


def _read_description(description: str | None) -> str:
    from app.inputs import decode

    if description is None:
        raise UserInputError(
            "no description given",
            "Pass the activity in quotes, - to read stdin, or --file PATH / --dir DIR.",
        )
    text = decode(sys.stdin.buffer.read(), "standard input") if description == "-" else description
    if not text.strip():
        raise UserInputError(
            "the description is empty",
            "Describe the proposed use or disclosure in a sentence or two.",
        )
    return text


@app.command("rules")
def rules(
    description: Annotated[
        str, typer.Argument(help="The activity, in plain words; - reads stdin.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """The deterministic rules' verdict alone: category, authorization, citations, trace."""
    from app.facts import extract_facts
    from app.rules import decide

    with user_errors():
        verdict = decide(extract_facts(_read_description(description)))
        data = verdict.to_json()

        def render() -> None:
            auth = _auth_label(verdict.authorization_required)
            out.print(
                f"[bold]{verdict.category.value}[/] — {auth}"
                + (" (insufficient facts)" if verdict.status == "insufficient_facts" else ""),
                highlight=False,
            )
            if verdict.operations_paragraph:
                out.print(f"health care operations, paragraph {verdict.operations_paragraph}")
            out.print("cites: " + "; ".join(verdict.citations), highlight=False)
            for step in verdict.trace:
                out.print(
                    f"rule {step.rule} ({step.citation}) on {', '.join(step.facts) or '—'}: "
                    f"{step.outcome}",
                    highlight=False,
                )
            _print_duties(verdict.obligations, verdict.questions)

        emit(data, as_json, render)


LLMOpt = Annotated[
    str | None,
    typer.Option("--llm", help="embedded | openai | ollama | none (default: TPO_LLM, embedded)."),
]


@app.command("classify")
def classify(
    description: Annotated[
        str | None, typer.Argument(help="The activity, in plain words; - reads stdin.")
    ] = None,
    llm: LLMOpt = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Classify a document: text, markdown, HTML, .eml, PDF, .docx."),
    ] = None,
    folder: Annotated[
        Path | None,
        typer.Option("--dir", help="Classify every document in a folder.", file_okay=False),
    ] = None,
    context: Annotated[
        str | None,
        typer.Option("--context", help='One line the document does not say ("the maker pays").'),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="With --dir: write the results table (.csv or .jsonl)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The cross-checked, cited answer: category, authorization, status and why."""
    with user_errors():
        svc = services()
        if file is not None or folder is not None:
            from app import cli_docs

            if file is not None and folder is not None:
                raise UserInputError("give --file or --dir, not both", "Classify one at a time.")
            if file is not None:
                result = cli_docs.classify_file_command(svc, file, context, llm, as_json)
                svc.record(result.determination.to_json(), source="cli --file")
            else:
                assert folder is not None

                def record(determination: dict[str, Any]) -> None:
                    svc.record(determination, source="cli --dir", kind="batch")

                cli_docs.classify_dir_command(
                    svc, folder, context, llm, out_file, as_json, record=record
                )
            return
        text = _read_description(description)
        if context:
            text = f"{text}\n{context}"
        det = svc.pipeline(llm).classify(text)
        data = det.to_json()
        # The answer is shown even when the audit trail cannot take it; the failure is then
        # reported after it, with exit code 2, so nothing the user did is lost.
        audit_error: TpoError | None = None
        try:
            record_id: int | None = svc.record(data, source="cli")
        except TpoError as exc:
            record_id, audit_error = None, exc
        data["audit_id"] = record_id

        def render() -> None:
            auth = _auth_label(det.authorization_required)
            out.print(
                f"[bold]{det.category.value}[/] — {auth} — {det.status.replace('_', ' ')}",
                highlight=False,
            )
            if det.operations_paragraph:
                out.print(f"health care operations, paragraph {det.operations_paragraph}")
            out.print(det.rationale, highlight=False)
            for c in det.citations:
                out.print(
                    f"  [{c.passage_id}] {c.citation} (as of {c.as_of})"
                    + (f': "{c.quote}"' if c.quote else ""),
                    highlight=False,
                )
            _print_duties(det.obligations, det.clarifying_questions)
            if det.authorization_contents:
                out.print("the authorization must contain:")
                for o in det.authorization_contents:
                    out.print(f"  - {o.text} [{o.citation}]", highlight=False)
            for name, a in det.agreement.items():
                out.print(
                    f"{name}: {a['category']} (authorization "
                    f"{'required' if a['authorization_required'] else 'not required'})"
                    f"{'' if a['agrees'] else '  ← disagrees'}",
                    highlight=False,
                )
            for p in det.precedents[:3]:
                out.print(
                    f"similar case {p['id']}: {p['category']} (similarity {p['similarity']:.2f})",
                    highlight=False,
                )
            for flag in det.flags:
                out.print(f"[red]flag:[/] {flag}", highlight=False)
            for notice in det.notices:
                out.print(f"[yellow]notice:[/] {notice}", highlight=False)
            if det.redaction_summary:
                out.print(f"before storing, {det.redaction_summary}", highlight=False)
            if det.dropped_citations:
                out.print(
                    f"{det.dropped_citations} citation(s) from the model were dropped: "
                    "not among the retrieved passages, or not verbatim."
                )
            if record_id is not None:
                out.print(f"recorded in the audit trail as #{record_id}", highlight=False)

        emit(data, as_json, render)
        if audit_error is not None:
            raise audit_error


@eval_app.command("run")
def eval_run(
    scenario_file: Annotated[Path, typer.Argument(help="Scenarios, JSON Lines or CSV.")],
    llm: LLMOpt = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Run folder (resumable).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run every scenario through the pipeline: summary, predictions, reports, confusion plot."""
    from app.scenarios import load_scenarios
    from evaluation.report import write_reports
    from evaluation.run import load_predictions, run

    with user_errors():
        scenarios = load_scenarios(scenario_file)
        svc = services()
        backend = llm or svc.settings.llm
        out_path = out_dir or Path("runs") / f"{scenario_file.stem}-{backend}"
        pipeline = svc.pipeline(backend)
        settings = {
            "llm": backend,
            "scenarios": str(scenario_file),
            "precedents": [str(p) for p in svc.settings.precedent_files],
            "model": pipeline.llm.model if pipeline.llm else None,
        }
        with progress_bars() as bar:
            summary = run(
                scenarios,
                pipeline,
                out_path,
                settings,
                lambda done, total: bar("classifying", done, total),
            )
        write_reports(scenarios, load_predictions(out_path), summary, out_path)

        def render() -> None:
            out.print(
                f"{summary['n']} scenarios → {out_path}: accuracy {summary['accuracy']}, "
                f"macro-F1 {summary['macro_f1']}, authorization accuracy "
                f"{summary['authorization_accuracy']}, unsafe misses "
                f"{summary['unsafe_misses']}, retrieval recall@k "
                f"{summary['retrieval_recall_at_k']}, latency p50 "
                f"{summary['latency_ms']['p50']} ms",
                highlight=False,
            )
            out.print(f"reports: {out_path / 'report.html'}, {out_path / 'report.md'}")

        emit(summary, as_json, render)


@eval_app.command("compare")
def eval_compare(run_a: Path, run_b: Path, as_json: JsonOpt = False) -> None:
    """Metric deltas between two runs, and the scenarios whose answer changed."""
    from evaluation.report import compare

    with user_errors():
        for r in (run_a, run_b):
            if not (r / "summary.json").is_file():
                raise UserInputError(
                    f"{r}: not a run folder (no summary.json)",
                    "Give two folders written by `tpo eval run --out`.",
                )
        data = compare(run_a, run_b)

        def render() -> None:
            table = Table("metric", str(run_a), str(run_b), "delta")
            for k, m in data["metrics"].items():
                table.add_row(k, str(m["a"]), str(m["b"]), str(m["delta"]))
            out.print(table)
            for c in data["changed"]:
                out.print(f"{c['id']}: {c['a']} → {c['b']}", highlight=False)

        emit(data, as_json, render)


@eval_app.command("rules")
def eval_rules(
    scenario_file: Annotated[Path, typer.Argument(help="Scenarios, JSON Lines or CSV.")],
    errors: Annotated[bool, typer.Option("--errors", help="List every wrong answer.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The rule module alone on a scenario file: accuracy per label and unsafe misses."""
    from app.scenarios import load_scenarios
    from evaluation.rules_only import evaluate_rules

    with user_errors():
        scenarios = load_scenarios(scenario_file)
        summary, predictions = evaluate_rules(scenarios)
        wrong = [
            {
                "id": s.id,
                "expected": s.expected.category.value,
                "predicted": p.category,
                "expected_authorization": s.expected.authorization_required,
                "predicted_authorization": p.authorization_required,
                "description": s.description,
            }
            for s, p in zip(scenarios, predictions, strict=True)
            if s.expected.category.value != p.category
            or (
                s.expected.authorization_required is not None
                and s.expected.authorization_required != p.authorization_required
            )
        ]
        data = {**summary, "errors": wrong}

        def render() -> None:
            out.print(
                f"{summary['n']} scenarios: accuracy {summary['accuracy']:.3f}, macro-F1 "
                f"{summary['macro_f1']:.3f}, authorization accuracy "
                f"{summary['authorization_accuracy']}, unsafe misses "
                f"{summary['unsafe_misses']}, insufficient facts "
                f"{summary['insufficient_facts_rate']:.3f}"
            )
            table = Table("label", "precision", "recall", "F1", "support")
            for label, m in summary["per_label"].items():
                table.add_row(
                    label,
                    f"{m['precision']:.2f}",
                    f"{m['recall']:.2f}",
                    f"{m['f1']:.2f}",
                    str(m["support"]),
                )
            out.print(table)
            if errors:
                for w in wrong:
                    out.print(
                        f"{w['id']}: expected {w['expected']}/{w['expected_authorization']}"
                        f" got {w['predicted']}/{w['predicted_authorization']}: "
                        f"{str(w['description'])[:150]}",
                        highlight=False,
                    )

        emit(data, as_json, render)


@app.command("bench")
def bench(
    out_file: Annotated[Path | None, typer.Option("--out")] = None,
    repeats: Annotated[int, typer.Option(min=5)] = 50,
    llm: Annotated[bool, typer.Option("--llm/--no-llm", help="Time the embedded model.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Measure build, updates, search and index size in a scratch data directory."""
    from app.bench import run_bench

    with user_errors():
        result = run_bench(Settings(), repeats=repeats, log=lambda m: err.print(m), with_llm=llm)
        if out_file:
            out_file.write_text(json.dumps(result, indent=2) + "\n")

        def render() -> None:
            table = Table("measure", "value")
            for key, value in result["table"]:
                table.add_row(key, value)
            out.print(table)

        emit(result, as_json, render)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
) -> None:
    """Start the web chat (Streamlit): Ask, Review, Corpus, Evaluate and Audit pages."""
    import subprocess

    from app.access import exposure_warning

    with user_errors():
        warning = exposure_warning(host, Settings().auth)
    if warning:
        err.print(f"[bold yellow]warning:[/] {warning}", highlight=False)
    page = Path(__file__).resolve().parent / "ui" / "main.py"
    raise typer.Exit(
        subprocess.call(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(page),
                "--server.address",
                host,
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
                "--client.showErrorDetails",
                "none",
                "--client.toolbarMode",
                "minimal",
            ]
        )
    )


def _register_command_modules() -> None:
    """Each ``app/cli_*.py`` adds its own commands; this file only lists them."""
    import importlib

    for name in REGISTERED:
        importlib.import_module(f"app.{name}").register(app)


# Command modules that register themselves on ``app`` (each has ``register(app)``).
REGISTERED: tuple[str, ...] = ("cli_scrub", "cli_audit", "cli_users", "cli_load")
_register_command_modules()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
