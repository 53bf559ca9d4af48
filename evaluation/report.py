"""Reports a privacy officer can read: report.md, report.html and confusion.png."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; there is no screen on a server
import matplotlib.pyplot as plt
from jinja2 import Environment, select_autoescape
from sklearn.metrics import confusion_matrix

from app.scenarios import Scenario
from evaluation.metrics import LABELS

TEMPLATE = """\
<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tpo-check evaluation</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;
vertical-align:top}th{background:#f3f3f3}.bad{color:#a00;font-weight:bold}img{max-width:100%}
</style></head><body>
<h1>tpo-check evaluation</h1>
<p>{{ s.n }} scenarios; corpus version {{ s.corpus_version|join(", ") }};
LLM backend {{ s.settings.llm }}.</p>
<table><tr><th>measure</th><th>value</th></tr>
{% for k, v in headline %}<tr><td>{{ k }}</td><td{% if k == "unsafe misses" and v %}
 class="bad"{% endif %}>{{ v }}</td></tr>{% endfor %}</table>
<p>An <b>unsafe miss</b> is a scenario where authorization is required and the answer said it
was not.</p>
<h2>Confusion matrix</h2><img src="confusion.png" alt="confusion matrix">
<h2>Per label</h2><table><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th>
<th>support</th></tr>{% for label, m in s.per_label.items() %}<tr><td>{{ label }}</td>
<td>{{ m.precision }}</td><td>{{ m.recall }}</td><td>{{ m.f1 }}</td><td>{{ m.support }}</td>
</tr>{% endfor %}</table>
<h2>Errors ({{ errors|length }})</h2><table><tr><th>id</th><th>description</th>
<th>expected</th><th>predicted</th><th>citations given</th></tr>{% for e in errors %}<tr>
<td>{{ e.id }}</td><td>{{ e.description }}</td><td>{{ e.expected }}</td><td>{{ e.predicted }}
</td><td>{{ e.citations|join("; ") }}</td></tr>{% endfor %}</table></body></html>
"""


def _auth(value: bool | None) -> str:
    return "?" if value is None else ("authorization" if value else "no authorization")


def errors(scenarios: Sequence[Scenario], done: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for s in scenarios:
        row = done.get(s.id)
        if row is None:
            continue
        d = row["determination"]
        wrong_cat = d["category"] != s.expected.category.value
        wrong_auth = (
            s.expected.authorization_required is not None
            and d["authorization_required"] != s.expected.authorization_required
        )
        if wrong_cat or wrong_auth:
            out.append(
                {
                    "id": s.id,
                    "description": s.description,
                    "expected": f"{s.expected.category.value} / "
                    f"{_auth(s.expected.authorization_required)}",
                    "predicted": f"{d['category']} / {_auth(d['authorization_required'])} "
                    f"({d['status']})",
                    "citations": [c["citation"] for c in d["citations"]],
                }
            )
    return out


def confusion_png(
    scenarios: Sequence[Scenario], done: dict[str, dict[str, Any]], path: Path
) -> None:
    pairs = [
        (s.expected.category.value, done[s.id]["determination"]["category"])
        for s in scenarios
        if s.id in done
    ]
    matrix = confusion_matrix([a for a, _b in pairs], [b for _a, b in pairs], labels=LABELS)
    fig, ax = plt.subplots(figsize=(9, 8))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(LABELS)), LABELS, rotation=60, ha="right")
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("expected")
    for i in range(len(LABELS)):
        for j in range(len(LABELS)):
            if matrix[i, j]:
                ax.text(
                    j,
                    i,
                    str(matrix[i, j]),
                    ha="center",
                    va="center",
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black",
                )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(
    scenarios: Sequence[Scenario],
    done: dict[str, dict[str, Any]],
    summary: dict[str, Any],
    out: Path,
) -> None:
    confusion_png(scenarios, done, out / "confusion.png")
    errs = errors(scenarios, done)
    headline = [
        ("accuracy", summary["accuracy"]),
        ("macro-F1", summary["macro_f1"]),
        ("authorization accuracy", summary["authorization_accuracy"]),
        ("unsafe misses", summary["unsafe_misses"]),
        (
            "citation precision / recall",
            f"{summary['citation_precision']} / {summary['citation_recall']}",
        ),
        ("retrieval recall@k", summary["retrieval_recall_at_k"]),
        ("LLM-rules agreement", summary["llm_rules_agreement"]),
        (
            "needs review / insufficient facts",
            f"{summary['needs_review_rate']} / {summary['insufficient_facts_rate']}",
        ),
        (
            "latency p50 / p95 (ms)",
            f"{summary['latency_ms']['p50']} / {summary['latency_ms']['p95']}",
        ),
    ]
    env = Environment(autoescape=select_autoescape(default=True))
    html = env.from_string(TEMPLATE).render(s=summary, headline=headline, errors=errs)
    (out / "report.html").write_text(html, encoding="utf-8")
    md = [
        "# tpo-check evaluation",
        "",
        f"{summary['n']} scenarios; corpus version {', '.join(summary['corpus_version'])}; "
        f"LLM backend {summary['settings'].get('llm')}.",
        "",
        "| measure | value |",
        "|---|---|",
    ]
    md += [f"| {k} | {v} |" for k, v in headline]
    md += [
        "",
        "![confusion matrix](confusion.png)",
        "",
        "| label | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    md += [
        f"| {lab} | {m['precision']} | {m['recall']} | {m['f1']} | {m['support']} |"
        for lab, m in summary["per_label"].items()
    ]
    md += ["", f"## Errors ({len(errs)})", ""]
    md += [
        f"- **{e['id']}** — expected {e['expected']}, predicted {e['predicted']}; cited "
        f"{'; '.join(e['citations']) or 'nothing'}.\n  > {e['description']}"
        for e in errs
    ]
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")


def compare(a: Path, b: Path) -> dict[str, Any]:
    """Metric deltas between two runs and the scenarios whose answer changed."""
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    keys = [
        "accuracy",
        "macro_f1",
        "authorization_accuracy",
        "unsafe_misses",
        "citation_precision",
        "citation_recall",
        "retrieval_recall_at_k",
        "insufficient_facts_rate",
        "needs_review_rate",
    ]
    deltas = {
        k: {
            "a": sa.get(k),
            "b": sb.get(k),
            "delta": round(sb[k] - sa[k], 4)
            if isinstance(sa.get(k), int | float) and isinstance(sb.get(k), int | float)
            else None,
        }
        for k in keys
    }
    from evaluation.run import load_predictions

    pa, pb = load_predictions(a), load_predictions(b)
    changed = []
    for sid in sorted(set(pa) & set(pb)):
        da, db = pa[sid]["determination"], pb[sid]["determination"]
        if (da["category"], da["authorization_required"]) != (
            db["category"],
            db["authorization_required"],
        ):
            changed.append(
                {
                    "id": sid,
                    "a": f"{da['category']} / {_auth(da['authorization_required'])}",
                    "b": f"{db['category']} / {_auth(db['authorization_required'])}",
                }
            )
    return {"a": str(a), "b": str(b), "metrics": deltas, "changed": changed}
