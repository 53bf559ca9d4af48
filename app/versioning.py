"""The rule module's version: a digest of the code and data that decide a verdict.

The audit trail records it with every determination, so a privacy officer can tell
which answers were given by which rules after the lexicon or a rule changes.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
RULE_FILES = ("app/facts.py", "app/rules.py", "app/guard.py", "corpus/lexicon.yaml")


@lru_cache(maxsize=1)
def rules_version() -> str:
    h = hashlib.sha256()
    for name in RULE_FILES:
        h.update(name.encode())
        h.update((_ROOT / name).read_bytes())
    return f"rules-{h.hexdigest()[:12]}"
