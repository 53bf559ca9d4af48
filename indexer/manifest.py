"""corpus/sources.toml: what the corpus is made of, and where each source lives.

The manifest is data, validated strictly: an unknown key is far more often a typo
that would silently drop a source than an intended extension.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from indexer.errors import ManifestError
from indexer.models import SourceKind

DEFAULT_MANIFEST = Path(__file__).resolve().parents[1] / "corpus" / "sources.toml"


class SourceFormat(StrEnum):
    MARKDOWN_SECTION = "markdown-section"
    ECFR_XML = "ecfr-xml"
    PDF = "pdf"
    GUIDANCE_MARKDOWN = "guidance-markdown"
    GUIDANCE_HTML = "guidance-html"
    TEXT = "text"


class Source(BaseModel):
    """One entry of the manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]{1,80}$")
    title: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    kind: SourceKind
    url: str = Field(pattern=r"^https?://")
    mirror: str = Field(min_length=1)
    root: Literal["corpus", "seeds"] = "corpus"
    format: SourceFormat
    as_of: str
    license: str = Field(min_length=1)
    sections: tuple[str, ...] | None = None

    @field_validator("as_of")
    @classmethod
    def _date_or_undated(cls, value: str) -> str:
        if value != "undated" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("must be a date YYYY-MM-DD or 'undated'")
        return value

    @property
    def is_law(self) -> bool:
        return self.kind in (SourceKind.REGULATION, SourceKind.STATUTE)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_: int = Field(alias="schema")
    source: tuple[Source, ...] = Field(min_length=1)

    @field_validator("source")
    @classmethod
    def _unique_ids(cls, sources: tuple[Source, ...]) -> tuple[Source, ...]:
        seen: set[str] = set()
        for s in sources:
            if s.id in seen:
                raise ValueError(f"source id {s.id!r} appears twice")
            seen.add(s.id)
        return sources

    def digest(self) -> str:
        return hashlib.sha256(self.model_dump_json(by_alias=True).encode()).hexdigest()[:16]


def load_manifest(path: Path = DEFAULT_MANIFEST) -> Manifest:
    """Read and validate the manifest; every failure names the file and the entry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ManifestError(f"{path}: manifest not found", "Pass --manifest FILE.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML ({exc})", "Fix the syntax.") from exc
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = list(err["loc"])
            where = ".".join(str(x) for x in loc)
            if len(loc) >= 2 and loc[0] == "source" and isinstance(loc[1], int):
                entries = data.get("source", [])
                if isinstance(entries, list) and loc[1] < len(entries):
                    entry_id = entries[loc[1]].get("id", f"#{loc[1] + 1}")
                    where = f"source {entry_id!r}" + "".join(f".{x}" for x in loc[2:])
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{where}: {msg}")
        raise ManifestError(
            f"{path}: invalid manifest: " + "; ".join(problems),
            "Fix these entries; the keys are listed at the top of corpus/sources.toml.",
        ) from exc
