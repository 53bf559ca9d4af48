"""Latency figures, computed one way for the bench and the evaluation runs."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0..1) of ``values``; 0.0 when there are none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def p50_p95(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> dict[str, float]:
    """``{"p50", "p95"}`` of ``values`` times ``scale`` (1000 turns seconds into ms)."""
    return {
        "p50": round(percentile(values, 0.5) * scale, digits),
        "p95": round(percentile(values, 0.95) * scale, digits),
    }
