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
    llm: Literal["embedded", "openai", "ollama", "none"] = Field(
        default="embedded", description="Which LLM backend gives the third opinion."
    )
    llm_base_url: str = Field(
        default="http://127.0.0.1:8080/v1", description="OpenAI-compatible server for --llm openai."
    )
    llm_model: str = "local"
    llm_api_key: str = Field(default="none", repr=False)
    llm_timeout: float = Field(default=60.0, gt=0)
    ollama_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "llama3.1"
    llm_threads: int = Field(default=1, ge=1, le=64)
    audit_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the audit trail (default sqlite in the data directory); "
        "postgresql+psycopg://user@host/db works too.",
    )
    user: str | None = Field(
        default=None, description="Who is recorded as asking (default: the login name)."
    )
    auth: Literal["off", "local", "oidc"] = Field(
        default="off",
        description="Web app login: off (one user on 127.0.0.1), local (users file), oidc.",
    )
    users_file: Path | None = Field(
        default=None, description="Local users with hashed passwords (default data_dir/users.toml)."
    )
    precedent_files: list[Path] = Field(
        default_factory=lambda: sorted((REPO_ROOT / "evaluation" / "scenarios").glob("dev*.jsonl")),
        description="Labeled dev scenarios used as precedents (never the test split).",
    )

    @property
    def versions_db(self) -> Path:
        return self.data_dir / "versions.sqlite"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def reviews_file(self) -> Path:
        """Reviewer rulings, appended as labeled scenarios; they become precedents at once."""
        return self.data_dir / "reviews.jsonl"

    @property
    def audit_db_url(self) -> str:
        return self.audit_url or f"sqlite:///{self.data_dir / 'audit.sqlite'}"

    @property
    def users_path(self) -> Path:
        return self.users_file or self.data_dir / "users.toml"

    @property
    def requester(self) -> str:
        """The name recorded for CLI requests: TPO_USER, else the login name."""
        import getpass

        if self.user:
            return self.user
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"

    @property
    def lock_file(self) -> Path:
        return self.data_dir / "update.lock"
