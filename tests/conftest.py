"""Shared fixtures: where the real corpus is, and services wired with fakes or real parts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import chromadb
import pytest
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from langchain_core.embeddings import DeterministicFakeEmbedding

from app.services import Services
from app.settings import Settings
from indexer.manifest import DEFAULT_MANIFEST

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
SEEDS = SHARED / "seeds"
FIXTURES = Path(__file__).parent / "fixtures"

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus not present")


def write_manifest(path: Path, keep: set[str] | None = None, **overrides: str) -> Path:
    """A copy of the real manifest, limited to the source ids in ``keep``.

    The entries are copied as text, so the test manifest is the real one, not a
    re-typed imitation of it.
    """
    text = DEFAULT_MANIFEST.read_text(encoding="utf-8")
    head, *entries = text.split("[[source]]")
    kept = [e for e in entries if keep is None or any(f'id = "{k}"\n' in e for k in keep)]
    body = head + "".join("[[source]]" + e for e in kept)
    for key, value in overrides.items():
        body = body.replace(key, value)
    path.write_text(body, encoding="utf-8")
    return path


def tpo_env(tmp_path: Path, sources: set[str]) -> dict[str, str]:
    """The TPO_* variables for a scratch data directory indexing only ``sources``."""
    return {
        "TPO_DATA_DIR": str(tmp_path / "data"),
        "TPO_MANIFEST": str(write_manifest(tmp_path / "sources.toml", sources)),
        "TPO_CORPUS_MIRROR": str(CORPUS),
        "TPO_SEEDS_MIRROR": str(SEEDS),
    }


SMALL = {
    "45-cfr-164.501",
    "45-cfr-164.506",
    "45-cfr-164.508",
    "42-usc-17936",
    "hhs-faq-refill-reminders",
}


@pytest.fixture
def small_manifest(tmp_path: Path) -> Path:
    return write_manifest(tmp_path / "sources.toml", SMALL)


@pytest.fixture
def mirror_copy(tmp_path: Path) -> Path:
    """A scratch copy of the mirror that a test may edit."""
    import shutil

    dest = tmp_path / "mirror"
    shutil.copytree(CORPUS, dest)
    return dest


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real `chroma run` server on loopback, for the whole test session."""
    import shutil
    import socket
    import subprocess
    import sys
    import time

    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("w")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            chromadb.HttpClient(
                host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False)
            ).heartbeat()
            break
        except Exception as exc:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log_text = (path / "server.log").read_text()
                raise RuntimeError(f"chroma server did not start: {log_text}") from exc
            time.sleep(0.2)
    yield "127.0.0.1", port
    proc.terminate()
    proc.wait(10)


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.slow)])
def chroma(request: pytest.FixtureRequest) -> ClientAPI:
    """The same tests run against an in-process Chroma and a real Chroma server."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        client: ClientAPI = chromadb.HttpClient(host=host, port=port, settings=settings)
    else:
        client = chromadb.EphemeralClient(settings=settings)
    for c in client.list_collections():  # both outlive a single test: start clean
        client.delete_collection(c.name)
    return client


@pytest.fixture
def fake_services(tmp_path: Path, small_manifest: Path, chroma: ClientAPI) -> Services:
    """Services with a deterministic fake embedder and a Chroma of either kind."""
    settings = Settings(
        data_dir=tmp_path / "data",
        manifest=small_manifest,
        corpus_mirror=CORPUS,
        seeds_mirror=SEEDS,
    )
    return Services(
        settings,
        embedder_override=DeterministicFakeEmbedding(size=32),
        model_id="fake-32",
        client_override=chroma,
    )


def missing_from_real_corpus(citations: list[str], tmp_path: Path) -> list[str]:
    """The citations that name no paragraph of an index built from the real corpus (each must
    be a passage or the parent of passages).  Embeddings are fake: only the outline counts."""
    from indexer.models import Citation

    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    for c in client.list_collections():
        client.delete_collection(c.name)
    svc = Services(
        Settings(data_dir=tmp_path / "data", corpus_mirror=CORPUS, seeds_mirror=SEEDS),
        embedder_override=DeterministicFakeEmbedding(size=8),
        model_id="fake-8",
        client_override=client,
    )
    manifest, snapshot = svc.read_corpus()
    svc.indexer().build(snapshot, manifest)
    current = svc.db.current()
    assert current is not None
    indexed = [p.citation for p in svc.db.passages(current.id) if p.citation is not None]
    return [
        text
        for text in citations
        if not any(
            Citation.parse(text).matches(p) and len(Citation.parse(text).path) <= len(p.path)
            for p in indexed
        )
    ]
