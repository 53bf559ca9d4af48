"""Faults during an update or a question: each gives one clear message and loses nothing.

Fast tests use a fake embedder and an in-memory Chroma; the faults are injected through
the seams the code offers (the corpus location's reader, the embedder, the settings),
never by patching names. The slow ones stop a real Chroma server or run a real,
deliberately slow LLM endpoint on loopback.
"""

from __future__ import annotations

import errno
import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chromadb
import pytest
import sqlalchemy
from chromadb.config import Settings as ChromaSettings
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from app.services import Services
from app.settings import Settings
from indexer.corpus import CorpusLocation, read_corpus
from indexer.errors import IndexStateError, SourceError, disk_full
from indexer.store import ADD_BATCH
from indexer.versions import VersionDB
from tests.conftest import CORPUS, SEEDS, needs_corpus

pytestmark = needs_corpus

PAID = "A drug company pays us to email patients about its new inhaler."
SEARCH = "authorization for marketing"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build(svc: Services) -> str:
    manifest, snapshot = svc.read_corpus()
    report = svc.indexer().build(snapshot, manifest)
    assert report.version is not None
    return report.version


def rebuild_services(svc: Services, **changes: object) -> Services:
    """The same store and data dir, other settings or embedder (a new process, in effect)."""
    embedder = changes.pop("embedder", svc.embedder_override)
    settings = svc.settings.model_copy(update=changes)
    return Services(settings, embedder, svc.model_id, svc.client_override)  # type: ignore[arg-type]


def still_serves(svc: Services, version: str) -> None:
    current = svc.db.current()
    assert current is not None and current.id == version
    fresh = rebuild_services(svc)
    served, hits = fresh.searcher.search(SEARCH, k=3)
    assert served == version and len(hits) == 3


# -- a source file that vanishes during an update ----------------------------------------


def test_a_file_that_vanishes_between_the_manifest_and_its_read_is_a_source_error(
    fake_services: Services, mirror_copy: Path
) -> None:
    v1 = build(fake_services)
    svc = rebuild_services(fake_services, corpus_mirror=mirror_copy)
    victim = mirror_copy / "164.508.md"
    assert victim.is_file()

    def read_while_someone_deletes(path: Path) -> bytes:
        # The check that the file exists has passed; now it goes (an rsync replacing it).
        if path == victim:
            path.unlink()
        return path.read_bytes()

    where = CorpusLocation(mirror=mirror_copy, seeds=SEEDS, read=read_while_someone_deletes)
    with pytest.raises(SourceError) as info:
        read_corpus(svc.manifest(), where)
    message = info.value.user_message()
    assert "164.508.md" in message and "disappeared" in message
    assert "still serves its current version" in message
    assert "Traceback" not in message
    still_serves(svc, v1)


def test_a_file_deleted_after_the_update_started_names_it_and_the_old_version_serves(
    fake_services: Services, mirror_copy: Path
) -> None:
    v1 = build(fake_services)
    (mirror_copy / "164.506.md").write_text(
        (mirror_copy / "164.506.md").read_text().replace("arrangement may", "arrangement can")
    )
    svc = rebuild_services(fake_services, corpus_mirror=mirror_copy)
    manifest = svc.manifest()
    order = [s.id for s in manifest.source]

    nxt = mirror_copy / manifest.source[order.index("45-cfr-164.501") + 1].mirror
    saved = nxt.read_bytes()

    def delete_the_next_one(source_id: str) -> None:
        # Progress reports each source as it starts; the one after 164.501 goes missing.
        if source_id == "45-cfr-164.501":
            nxt.unlink()

    with pytest.raises(SourceError, match="not found") as info:
        svc.read_corpus(progress=delete_the_next_one)
    assert "Restore the file" in info.value.hint
    still_serves(svc, v1)
    # Restored, the same update goes through and carries the edit.
    nxt.write_bytes(saved)
    m, snap = svc.read_corpus()
    report = svc.indexer().update(snap, m)
    assert report.version == "v2" and [c.citation for c in report.changes] == [
        "45 CFR 164.506(c)(5)"
    ]


def test_an_unreadable_file_is_a_source_error_not_a_crash(
    fake_services: Services, tmp_path: Path
) -> None:
    def broken_disk(path: Path) -> bytes:
        raise OSError(errno.EIO, "Input/output error", str(path))

    where = CorpusLocation(mirror=CORPUS, seeds=SEEDS, read=broken_disk)
    with pytest.raises(SourceError, match="Input/output error") as info:
        read_corpus(fake_services.manifest(), where)
    assert "permissions and the disk" in info.value.hint


# -- a full disk during an update ---------------------------------------------------------


class DiskFillsUp(Embeddings):
    """An embedder whose disk fills after ``ok`` batches: the write stops halfway."""

    def __init__(self, inner: Embeddings, ok: int) -> None:
        self.inner = inner
        self.ok = ok
        self.calls = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls > self.ok:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


@pytest.fixture
def larger_services(fake_services: Services, tmp_path: Path) -> Services:
    """More passages than one write batch, so a fault can strike between batches."""
    from tests.conftest import SMALL, write_manifest

    manifest = write_manifest(tmp_path / "larger.toml", SMALL | {"45-cfr-164.502"})
    return rebuild_services(fake_services, manifest=manifest)


def test_a_full_disk_mid_update_is_one_message_the_old_version_serves_and_the_next_completes(
    larger_services: Services, mirror_copy: Path
) -> None:
    fake_services = larger_services
    v1 = build(fake_services)
    passages = fake_services.db.current().passages  # type: ignore[union-attr]
    assert passages > ADD_BATCH  # so the disk fills after a batch was written: mid-write
    for name in ("164.506.md", "164.508.md"):
        path = mirror_copy / name
        path.write_text(path.read_text().replace("covered entity", "Covered Entity", 1))
    full = DiskFillsUp(DeterministicFakeEmbedding(size=32), ok=1)
    svc = rebuild_services(fake_services, corpus_mirror=mirror_copy, embedder=full)
    manifest, snapshot = svc.read_corpus()
    # A full build re-embeds everything, so the fault hits after the first batch.
    with pytest.raises(IndexStateError, match="the disk is full") as info:
        svc.indexer().build(snapshot, manifest)
    assert full.calls == 2
    assert "Free space" in info.value.hint and "still serves" in info.value.hint
    # The half-written collection was dropped; only v1's remains, and v1 serves.
    current = svc.db.current()
    assert current is not None and svc.store.collections() == [current.collection]
    still_serves(fake_services, v1)
    # Space freed: the next update completes and carries both edits.
    ok = rebuild_services(fake_services, corpus_mirror=mirror_copy)
    manifest, snapshot = ok.read_corpus()
    report = ok.indexer().update(snapshot, manifest)
    assert report.version == "v2" and report.previous == v1
    assert len(report.changes) == 2
    still_serves(ok, "v2")


class VersionsOnAFullDisk(VersionDB):
    """A version database whose disk fills while the new version is being recorded."""

    def _commit(self, *args: Any, **kwargs: Any) -> Any:
        raise sqlalchemy.exc.OperationalError(
            "INSERT INTO versions", {}, Exception("database or disk is full")
        )


def test_a_full_disk_while_recording_the_version_leaves_the_old_one_serving(
    fake_services: Services, mirror_copy: Path
) -> None:
    v1 = build(fake_services)
    path = mirror_copy / "164.506.md"
    path.write_text(path.read_text().replace("covered entity", "Covered Entity", 1))
    svc = rebuild_services(fake_services, corpus_mirror=mirror_copy)
    svc.__dict__["db"] = VersionsOnAFullDisk(svc.settings.versions_db)  # the injected service
    manifest, snapshot = svc.read_corpus()
    with pytest.raises(IndexStateError, match="could not be recorded") as info:
        svc.indexer().update(snapshot, manifest)
    assert "still serves" in info.value.hint
    still_serves(fake_services, v1)
    ok = rebuild_services(fake_services, corpus_mirror=mirror_copy)
    manifest, snapshot = ok.read_corpus()
    assert ok.indexer().update(snapshot, manifest).version == "v2"


def test_disk_full_is_recognised_in_the_forms_the_stack_reports_it() -> None:
    assert disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert disk_full(RuntimeError("sqlite3.OperationalError: database or disk is full"))
    wrapped = ValueError("write failed")
    wrapped.__cause__ = OSError(errno.ENOSPC, "x")
    assert disk_full(wrapped)
    assert not disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not disk_full(ValueError("bad vector"))


# -- the Chroma server down ---------------------------------------------------------------
# A server that was never started (`index build`) is covered by tests/test_cli.py; here:
# asking a question with no server, and a server that stops while the app is running.


def test_asking_with_the_chroma_server_down_names_the_host_and_what_to_do(
    tmp_path: Path,
) -> None:
    port = closed_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        chroma_host="127.0.0.1",
        chroma_port=port,
        corpus_mirror=CORPUS,
        seeds_mirror=SEEDS,
    )
    svc = Services(settings, DeterministicFakeEmbedding(size=32), "fake-32")
    with pytest.raises(IndexStateError) as info:
        svc.pipeline("none").classify(PAID)
    message = info.value.user_message()
    assert f"127.0.0.1:{port}" in message and "chroma run" in message


@pytest.fixture
def own_chroma_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A Chroma server this test may stop (the shared session server must keep running)."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = closed_port()
    proc = subprocess.Popen(
        [exe, "run", "--path", str(tmp_path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    settings = ChromaSettings(anonymized_telemetry=False)
    deadline = time.monotonic() + 30
    while True:
        try:
            chromadb.HttpClient(host="127.0.0.1", port=port, settings=settings).heartbeat()
            break
        except Exception:
            assert proc.poll() is None and time.monotonic() < deadline, "chroma did not start"
            time.sleep(0.2)
    yield proc, port
    if proc.poll() is None:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
def test_a_chroma_server_that_stops_while_serving_is_named_not_retried_forever(
    tmp_path: Path, own_chroma_server: tuple[subprocess.Popen[bytes], int]
) -> None:
    proc, port = own_chroma_server
    from tests.conftest import write_manifest

    settings = Settings(
        data_dir=tmp_path / "data",
        manifest=write_manifest(tmp_path / "sources.toml", {"45-cfr-164.501", "45-cfr-164.508"}),
        chroma_host="127.0.0.1",
        chroma_port=port,
        corpus_mirror=CORPUS,
        seeds_mirror=SEEDS,
    )
    svc = Services(settings, DeterministicFakeEmbedding(size=32), "fake-32")
    build(svc)
    assert svc.searcher.search(SEARCH, k=3)[1]
    proc.terminate()
    proc.wait(10)
    with pytest.raises(IndexStateError) as info:
        svc.searcher.search(SEARCH, k=3)
    message = info.value.user_message()
    # Not "collection replaced, retry the search": the server is gone, say so and where.
    assert f"127.0.0.1:{port}" in message and "does not answer" in message
    assert "chroma run" in message


# -- the LLM endpoint down or slow ---------------------------------------------------------


@pytest.fixture
def indexed(fake_services: Services) -> Services:
    build(fake_services)
    return fake_services


def rules_answer_with_notice(det_json: dict[str, object]) -> str:
    """The rules' answer stands, and the LLM's failure is visible in the determination."""
    assert det_json["category"] == "marketing" and det_json["authorization_required"] is True
    llm = det_json["llm"]
    assert isinstance(llm, dict) and llm.get("error"), llm
    notices = det_json["notices"]
    assert isinstance(notices, list)
    # The same failure, said to the user: the rules alone answered.
    assert any("did not answer" in str(n) and "rules" in str(n) for n in notices), notices
    return str(llm["error"])


def test_an_llm_endpoint_that_is_down_leaves_the_rules_answer_with_the_error(
    indexed: Services,
) -> None:
    svc = rebuild_services(
        indexed,
        llm="openai",
        llm_base_url=f"http://127.0.0.1:{closed_port()}/v1",
        llm_timeout=3.0,
    )
    start = time.perf_counter()
    det = svc.pipeline("openai").classify(PAID).to_json()
    seconds = time.perf_counter() - start
    error = rules_answer_with_notice(det)
    assert "Connection" in error or "connect" in error.lower(), error
    assert seconds < 15


class SlowHandler(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that answers after the client has given up."""

    delay = 6.0

    def do_POST(self) -> None:
        time.sleep(self.delay)
        body = json.dumps({"error": "too late"}).encode()
        try:
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client hung up, as it should

    def log_message(self, *_args: object) -> None:
        return


@pytest.mark.slow
def test_a_slow_llm_endpoint_times_out_and_the_rules_answer_stands(indexed: Services) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        timeout = 1.0
        svc = rebuild_services(
            indexed, llm="openai", llm_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout=timeout
        )
        start = time.perf_counter()
        det = svc.pipeline("openai").classify(PAID).to_json()
        seconds = time.perf_counter() - start
    finally:
        server.shutdown()
        server.server_close()
    error = rules_answer_with_notice(det)
    assert "timed out" in error.lower() or "timeout" in error.lower(), error
    # Bounded by the timeout (two attempts: max_retries=1), not by the server's delay.
    assert seconds < SlowHandler.delay + 1, seconds
    print(f"\nslow LLM endpoint: answered from the rules in {seconds:.2f} s; llm.error={error!r}")
