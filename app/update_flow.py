"""An update with its change impact, in the order the impact needs (no Streamlit here).

The past answers a change touches are classified on the old version *before* the update
replaces it, and again after; see ``app/impact.py``.  Shared by the web app's Corpus
page and ``tpo index update``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.impact import ImpactReport, affected_items, with_after, with_before
from app.services import Services
from indexer.update import UpdateReport

# (stage, done, total), as the indexer's progress; stages "plan", "before", "embed",
# "write", "after".
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class UpdateResult:
    report: UpdateReport
    impact: ImpactReport | None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.report.to_json(),
            "impact": self.impact.to_json() if self.impact else None,
        }


def update_with_impact(
    svc: Services,
    progress: Progress,
    llm: str = "none",
    download: bool = False,
    as_of: str | None = None,
) -> UpdateResult:
    """Update the index (from the mirror, or downloaded) and re-check the past answers its
    changes touch."""
    manifest, snapshot = svc.read_corpus(download=download, as_of=as_of)
    indexer = svc.indexer(progress)
    changes = indexer.plan(snapshot, manifest)
    items = affected_items(changes, svc.audit, svc.precedents.scenarios()) if changes else []
    pipeline = svc.pipeline(llm)

    def counted(stage: str) -> Callable[[str], dict[str, Any]]:
        done = 0

        def classify(description: str) -> dict[str, Any]:
            nonlocal done
            result = pipeline.classify(description).to_json()
            done += 1
            progress(stage, done, len(items))
            return result

        return classify

    if items:
        items = with_before(items, counted("before"))
    report = indexer.update(snapshot, manifest)
    impact = with_after(changes, items, counted("after")) if report.created else None
    return UpdateResult(report, impact)
