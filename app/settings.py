"""The one settings object: environment variables prefixed ``TPO_`` and a ``.env`` file.

Built once by the face (CLI or web app) and passed down; nothing else reads the
environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from indexer.manifest import DEFAULT_MANIFEST

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


def _default_mirror(name: str) -> Path | None:
    path = SHARED / name
    return path if path.is_dir() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TPO_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=REPO_ROOT / ".tpo", description="Where versions, vectors and caches live."
    )
    manifest: Path = Field(default=DEFAULT_MANIFEST, description="The corpus manifest.")
    corpus_mirror: Path | None = Field(
        default_factory=lambda: _default_mirror("corpus"),
        description="Folder holding the files the manifest names (default ../shared/corpus).",
    )
    seeds_mirror: Path | None = Field(
        default_factory=lambda: _default_mirror("seeds"),
        description="Folder holding the secondary seed articles (default ../shared/seeds).",
    )
    chroma_host: str | None = Field(default=None, description="Use a Chroma server here.")
    chroma_port: int = 8000
    embed_threads: int = Field(default=1, ge=1, le=64)
    download_timeout: float = Field(default=20.0, gt=0)
    download_retries: int = Field(default=3, ge=1, le=10)
    llm: Literal["embedded", "openai", "ollama", "none"] = "embedded"

    @property
    def versions_db(self) -> Path:
        return self.data_dir / "versions.sqlite"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lock_file(self) -> Path:
        return self.data_dir / "update.lock"
