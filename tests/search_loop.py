"""Search the index over and over, one line of JSON per search, until killed.

Used by tests/test_atomic.py to watch what a long-lived reader sees while
another process updates the index.
"""

from __future__ import annotations

import json
import sys
import time

from app.services import Services
from app.settings import Settings


def main() -> None:
    searcher = Services(Settings()).searcher
    searcher.search("warm up")
    print("ready", flush=True)
    while True:
        try:
            version, hits = searcher.search("refill reminder paid by a manufacturer", k=3)
            line = {"version": version, "hits": len(hits)}
        except Exception as exc:  # reported to the test, which fails on any
            line = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(line), flush=True)
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
