"""What a valid authorization must contain, from ``corpus/authorization.yaml``.

When an answer says authorization is required, staff need the next step: the core
elements and statements of 45 CFR 164.508(c), and for marketing with financial
remuneration or a sale of PHI the statement that remuneration is involved
(164.508(a)(3)(ii), (a)(4)).  Each item carries the provision that requires it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from app.models import Category, Obligation
from indexer.errors import TpoError

AUTHORIZATION_FILE = Path(__file__).resolve().parents[1] / "corpus" / "authorization.yaml"

# One item of an authorization's required content: the same shape as an obligation.
Requirement = Obligation


class AuthorizationFileError(TpoError):
    """corpus/authorization.yaml is malformed."""


def authorization_contents(category: Category, required: bool) -> tuple[Requirement, ...]:
    """What a valid authorization must contain for this kind of use or disclosure; nothing
    when no authorization is required."""
    if not required:
        return ()
    return tuple(r for r, applies in load_authorization() if applies is None or category in applies)


@lru_cache(maxsize=2)
def load_authorization(
    path: Path = AUTHORIZATION_FILE,
) -> tuple[tuple[Requirement, frozenset[Category] | None], ...]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AuthorizationFileError(f"{path}: cannot read it ({exc})") from exc
    items = []
    for n, item in enumerate(data.get("requirements", []), 1):
        where = f"{path}: requirement {n}"
        if not item.get("text") or not item.get("citation"):
            raise AuthorizationFileError(f"{where} needs a text and a citation")
        applies = item.get("applies_to", "all")
        try:
            cats = None if applies == "all" else frozenset(Category(c) for c in applies)
        except ValueError as exc:
            raise AuthorizationFileError(f"{where}: {exc}") from exc
        items.append((Requirement(" ".join(item["text"].split()), item["citation"]), cats))
    return tuple(items)
