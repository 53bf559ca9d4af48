"""Run a real index update and SIGKILL this very process at a chosen point.

Used by tests/test_atomic.py:  python -m tests.kill_update POINT
POINT is "embed" or "write" (after the first batch of that step), or a step
boundary of indexer.update ("before-write", "after-write", "after-commit").
"""

from __future__ import annotations

import os
import signal
import sys

from app.services import Services
from app.settings import Settings


def main(point: str) -> None:
    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def progress(stage: str, done: int, total: int) -> None:
        if stage == point and 0 < done < total:
            die()

    svc = Services(Settings())
    manifest, snapshot = svc.read_corpus()
    indexer = svc.indexer(progress)
    indexer.checkpoint = lambda step: die() if step == point else None
    indexer.update(snapshot, manifest)
    sys.exit(0)  # reaching here means the kill point never came: the test treats it as failure


if __name__ == "__main__":
    main(sys.argv[1])
