"""``tpo bench``: index build, updates, search and size, measured in one run.

Runs in a scratch data directory on a scratch copy of the mirror, so it never
disturbs the index in use.  The search target is stated against a baseline
measured in the same run: embedding the query plus a bare Chroma query.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.services import Services
from app.settings import Settings
from app.timing import p50_p95

QUERIES = (
    "pharmacy refill reminder paid by the drug manufacturer",
    "may a hospital share records with another doctor for treatment",
    "sale of protected health information requires authorization",
    "psychotherapy notes authorization exceptions",
    "fundraising opt out communication",
    "limited data set data use agreement research",
    "health plan underwriting genetic information",
    "disclose to family members involved in care",
    "law enforcement request for PHI about a suspect",
    "marketing face-to-face communication promotional gift of nominal value",
)


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _change_one_paragraph(mirror: Path) -> str:
    """Edit one paragraph of 164.506 in the scratch mirror, as an amendment would."""
    target = mirror / "164.506.md"
    text = target.read_text(encoding="utf-8")
    old = "(5) A covered entity that participates in an organized health care arrangement"
    target.write_text(text.replace(old, old.replace("participates", "takes part")), "utf-8")
    return "45 CFR 164.506(c)(5)"


CASES = (
    "A drug company pays us to email patients about its new inhaler.",
    "We send the discharge summary to the patient's primary care physician.",
    "The billing office submits claims to the patient's health plan.",
    "Police ask the ER for the name of a gunshot victim.",
    "The hospital foundation wants to mail former patients asking for donations.",
)


def _tokens_per_second() -> float:
    """Generation speed of the embedded model, measured on one fixed prompt."""
    from llama_cpp import Llama

    from app.llm import smollm_path

    llm = Llama(model_path=str(smollm_path()), n_ctx=512, n_threads=1, verbose=False)
    t = time.perf_counter()
    out = llm("Explain the HIPAA minimum necessary standard.", max_tokens=96, temperature=0.0)
    seconds = time.perf_counter() - t
    return round(out["usage"]["completion_tokens"] / seconds, 1)  # type: ignore[index]


def run_bench(
    settings: Settings, repeats: int, log: Callable[[str], None], with_llm: bool = True
) -> dict[str, Any]:
    if settings.corpus_mirror is None:
        raise ValueError("bench needs a mirror folder (TPO_CORPUS_MIRROR)")
    with tempfile.TemporaryDirectory(prefix="tpo-bench-") as tmp:
        root = Path(tmp)
        mirror = root / "mirror"
        shutil.copytree(settings.corpus_mirror, mirror)
        scratch = settings.model_copy(
            update={"data_dir": root / "data", "corpus_mirror": mirror, "chroma_host": None}
        )
        svc = Services(scratch)
        t = time.perf_counter()
        embedder = svc.embedder
        load_s = time.perf_counter() - t
        log(f"embedder loaded in {load_s:.2f} s; full build …")

        t = time.perf_counter()
        manifest, snapshot = svc.read_corpus()
        read_s = time.perf_counter() - t
        t = time.perf_counter()
        build = svc.indexer().build(snapshot, manifest)
        build_s = read_s + (time.perf_counter() - t)
        log(f"build {build_s:.1f} s; no-op update …")

        t = time.perf_counter()
        manifest, snapshot = svc.read_corpus()
        noop = svc.indexer().update(snapshot, manifest)
        noop_s = time.perf_counter() - t

        changed_ref = _change_one_paragraph(mirror)
        t = time.perf_counter()
        manifest, snapshot = svc.read_corpus()
        one = svc.indexer().update(snapshot, manifest)
        one_s = time.perf_counter() - t
        log(f"one-paragraph update {one_s:.2f} s; search ×{repeats} …")

        searcher = svc.searcher
        searcher.search(QUERIES[0])  # warm: BM25 index and HNSW loaded once
        current = svc.db.current()
        assert current is not None
        collection = svc.store.client.get_collection(current.collection)
        hybrid, baseline = [], []
        for i in range(repeats):
            q = QUERIES[i % len(QUERIES)]
            t = time.perf_counter()
            vector = embedder.embed_query(q)
            collection.query(query_embeddings=[vector], n_results=5)  # type: ignore[arg-type]
            baseline.append(time.perf_counter() - t)
            t = time.perf_counter()
            searcher.search(q, k=5)
            hybrid.append(time.perf_counter() - t)

        log("rules and classification …")
        from app.facts import extract_facts
        from app.rules import decide

        rules_t = []
        for i in range(repeats * 4):
            t = time.perf_counter()
            decide(extract_facts(CASES[i % len(CASES)]))
            rules_t.append(time.perf_counter() - t)
        pipeline = svc.pipeline("none")
        pipeline.classify(CASES[0])  # warm: precedents embedded once
        none_t = []
        for i in range(repeats):
            t = time.perf_counter()
            pipeline.classify(CASES[i % len(CASES)])
            none_t.append(time.perf_counter() - t)
        embedded: dict[str, Any] = {}
        if with_llm:
            from app.llm import embedded_backend

            t = time.perf_counter()
            backend = embedded_backend()
            embedded["load_s"] = round(time.perf_counter() - t, 3)
            llm_pipe = svc.pipeline("none")
            llm_pipe.llm = backend
            emb_t = []
            for i in range(max(3, repeats // 10)):
                t = time.perf_counter()
                llm_pipe.classify(CASES[i % len(CASES)])
                emb_t.append(time.perf_counter() - t)
            embedded["classify_ms"] = {**p50_p95(emb_t, 1000, 1), "n": len(emb_t)}
            embedded["tokens_per_s"] = _tokens_per_second()

        size = _size(scratch.data_dir)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ms = 1000.0
        result: dict[str, Any] = {
            "passages": build.passages,
            "passages_per_source": {s.id: s.passages for s in snapshot.sources},
            "embedder_load_s": round(load_s, 3),
            "build_s": round(build_s, 2),
            "build_embedded": build.embedded,
            "noop_update_s": round(noop_s, 3),
            "noop_update_embedded": noop.embedded,
            "noop_vs_build_pct": round(100 * noop_s / build_s, 2),
            "one_paragraph_update_s": round(one_s, 2),
            "one_paragraph_update": {
                "embedded": one.embedded,
                "changed": [c.citation for c in one.changes],
                "expected": changed_ref,
            },
            "search_ms": p50_p95(hybrid, ms, 2),
            "baseline_ms": p50_p95(baseline, ms, 2),
            "search_vs_baseline_p50": round(
                statistics.median(hybrid) / statistics.median(baseline), 2
            ),
            "rules_ms": p50_p95(rules_t, ms, 3),
            "classify_none_ms": p50_p95(none_t, ms, 2),
            "throughput_per_s": {
                "search": round(len(hybrid) / sum(hybrid), 1),
                "rules": round(len(rules_t) / sum(rules_t), 1),
                "classify_none": round(len(none_t) / sum(none_t), 1),
            },
            "embedded": embedded,
            "index_bytes": size,
            "peak_rss_mb": round(peak_mb, 1),
            "repeats": repeats,
        }
        result["table"] = [
            ("passages indexed", str(build.passages)),
            ("full build (read + embed + write)", f"{build_s:.1f} s"),
            (
                "no-op update",
                f"{noop_s:.3f} s ({result['noop_vs_build_pct']} % of build; target < 5 %)",
            ),
            ("one-paragraph update", f"{one_s:.2f} s, embedded {one.embedded}"),
            ("search p50 / p95", f"{result['search_ms']['p50']} / {result['search_ms']['p95']} ms"),
            (
                "baseline (embed + bare Chroma) p50 / p95",
                f"{result['baseline_ms']['p50']} / {result['baseline_ms']['p95']} ms",
            ),
            ("search ÷ baseline (p50)", f"{result['search_vs_baseline_p50']}× (target ≤ 2×)"),
            ("rules p50 / p95", f"{result['rules_ms']['p50']} / {result['rules_ms']['p95']} ms"),
            (
                "classify --llm none p50 / p95",
                f"{result['classify_none_ms']['p50']} / {result['classify_none_ms']['p95']} ms "
                "(target p50 < 100 ms)",
            ),
            *(
                [
                    (
                        "classify --llm embedded p50 / p95",
                        f"{embedded['classify_ms']['p50']} / {embedded['classify_ms']['p95']} ms",
                    ),
                    (
                        "embedded model load, generation",
                        f"{embedded['load_s']} s, {embedded['tokens_per_s']} tokens/s",
                    ),
                ]
                if embedded
                else []
            ),
            (
                "throughput (per second)",
                ", ".join(f"{k} {v}" for k, v in result["throughput_per_s"].items()),
            ),
            ("index size", f"{size / 1e6:.1f} MB"),
            ("peak memory", f"{peak_mb:.0f} MB"),
        ]
        return result
