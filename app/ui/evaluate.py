"""Evaluate: run a labeled scenario file through the pipeline and read how it did.

A run lives in its own folder under ``Settings.data_dir / "runs"`` (predictions,
summary, reports, confusion plot), so it can be reopened here, compared with
``tpo eval compare`` and resumed if the page is closed half-way.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import streamlit as st

from app.inputs import decode
from app.scenarios import SCENARIO_DIR, Scenario, parse_scenarios
from app.ui.common import require, services, settings, shown_errors
from evaluation.report import errors, write_reports
from evaluation.run import SUMMARY, load_predictions, run

BACKENDS = ["none", "embedded", "openai", "ollama"]
SCENARIOS_FILE = "scenarios.jsonl"  # the run's own copy, so a run folder explains itself
RUN_KEY = "_eval_run"


def runs_dir() -> Path:
    return settings().data_dir / "runs"


def chosen_scenarios() -> tuple[str, list[Scenario]] | None:
    """The scenarios the user picked or uploaded, validated; None until there are some."""
    kind = st.radio("Scenarios", ["The project's sets", "Upload a file"], horizontal=True)
    if kind == "Upload a file":
        up = st.file_uploader(
            "JSON Lines or CSV in the format of LABELS.md", type=["jsonl", "csv", "json"]
        )
        if up is None:
            return None
        name, data = up.name, up.getvalue()
    else:
        files = sorted(SCENARIO_DIR.glob("*.jsonl"))
        path = st.selectbox("Set", files, format_func=lambda p: p.name)
        if path is None:
            return None
        name, data = path.name, path.read_bytes()
    with shown_errors() as outcome:
        scenarios = parse_scenarios(decode(data, name), name)
    if outcome.failed:
        return None
    st.caption(f"{name}: {len(scenarios)} valid scenarios.")
    return name, scenarios


def start_run(name: str, scenarios: list[Scenario], backend: str) -> Path | None:
    require("run_evaluation")  # again, right before the action
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(name).stem)[:60] or "scenarios"
    out = runs_dir() / f"{stem}-{backend}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    bar = st.progress(0.0, text="Classifying …")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Classifying: {done}/{total}")

    with shown_errors() as outcome:
        svc = services()
        pipeline = svc.pipeline(backend)
        config = {
            "llm": backend,
            "scenarios": name,
            "precedents": [str(p) for p in svc.settings.precedent_files],
            "model": pipeline.llm.model if pipeline.llm else None,
        }
        out.mkdir(parents=True, exist_ok=True)
        (out / SCENARIOS_FILE).write_text(
            "".join(s.model_dump_json(exclude_none=True) + "\n" for s in scenarios),
            encoding="utf-8",
        )
        summary = run(scenarios, pipeline, out, config, progress)
        write_reports(scenarios, load_predictions(out), summary, out)
    bar.empty()
    return None if outcome.failed else out


def show_run(out: Path) -> None:
    summary: dict[str, Any] = json.loads((out / SUMMARY).read_text(encoding="utf-8"))
    st.subheader(f"Run {out.name}")
    a, b, c = st.columns(3)
    a.metric("Accuracy", summary["accuracy"])
    b.metric("Macro-F1", summary["macro_f1"])
    c.metric("Unsafe misses", summary["unsafe_misses"])
    a.metric("Authorization accuracy", summary["authorization_accuracy"])
    b.metric("Citation recall", summary["citation_recall"])
    c.metric("Latency p50 (ms)", summary["latency_ms"]["p50"])
    st.caption(
        "Unsafe misses: answers that said no authorization was needed where it was — the "
        "costliest error."
    )
    if (out / "confusion.png").is_file():
        st.image(str(out / "confusion.png"), caption="Confusion matrix (rows: expected)")
    scen_file = out / SCENARIOS_FILE
    if scen_file.is_file():
        scenarios = parse_scenarios(scen_file.read_text(encoding="utf-8"), scen_file.name)
        wrong = errors(scenarios, load_predictions(out))
        st.markdown(f"**Wrong answers ({len(wrong)})**")
        if wrong:
            st.dataframe(
                [
                    {
                        "id": e["id"],
                        "expected": e["expected"],
                        "predicted": e["predicted"],
                        "description": e["description"],
                    }
                    for e in wrong
                ],
                hide_index=True,
                use_container_width=True,
            )
    left, right = st.columns(2)
    for col, fname, mime in (
        (left, "report.html", "text/html"),
        (right, "report.md", "text/markdown"),
    ):
        if (out / fname).is_file():
            col.download_button(
                f"Download {fname}",
                (out / fname).read_bytes(),
                file_name=f"{out.name}-{fname}",
                mime=mime,
                key=f"dl-{fname}",
                on_click="ignore",
            )


def main() -> None:
    require("run_evaluation")
    st.title("Evaluate")
    st.caption(
        "Run labeled scenarios through the same pipeline as Ask and see where it is right "
        "and wrong."
    )
    picked = chosen_scenarios()
    backend = st.selectbox("LLM for the third opinion", BACKENDS, index=0, key="eval-llm")
    if picked is not None and st.button("Run the evaluation", type="primary"):
        out = start_run(*picked, backend)
        if out is not None:
            st.session_state[RUN_KEY] = out.name
    past = (
        sorted(
            (p for p in runs_dir().iterdir() if (p / SUMMARY).is_file()),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        if runs_dir().is_dir()
        else []
    )
    if not past:
        return
    names = [p.name for p in past]
    latest = st.session_state.get(RUN_KEY)
    index = names.index(latest) if latest in names else 0
    chosen = st.selectbox("Results of run", names, index=index, key="eval-show")
    with shown_errors():
        show_run(runs_dir() / chosen)


main()
