"""With no mirror the indexer downloads from the official address; offline it says so."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from indexer.corpus import CorpusLocation, read_corpus
from indexer.errors import FetchError
from indexer.fetch import HttpFetcher
from indexer.manifest import load_manifest
from tests.conftest import FIXTURES, write_manifest


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []
    flaky: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        if self.flaky.get(self.path, 0) > 0:
            self.flaky[self.path] -= 1
            self.send_response(503)
            self.end_headers()
            return
        if self.path.startswith("/api/versioner/v1/titles"):
            body = b'{"titles": [{"number": 45, "up_to_date_as_of": "2026-11-18"}]}'
        elif self.path.startswith("/api/versioner/v1/full/"):
            body = (FIXTURES / "ecfr-part164-sample.xml").read_bytes()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    _Handler.hits = []
    _Handler.flaky = {}
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _manifest(tmp_path: Path, base: str) -> Path:
    return write_manifest(
        tmp_path / "sources.toml",
        {"45-cfr-164.501", "45-cfr-164.506"},
        **{"https://www.ecfr.gov": base},
    )


def test_without_a_mirror_the_ecfr_is_downloaded_as_of_the_date_asked(
    tmp_path: Path, server: str
) -> None:
    manifest = load_manifest(_manifest(tmp_path, server))
    fetch = HttpFetcher(timeout=5, retries=1)
    snap = read_corpus(manifest, CorpusLocation(None, None, fetch, as_of="2025-01-15"))
    refs = {p.ref for p in snap.passages}
    assert '45 CFR 164.501 "marketing" (2)(ii)(A)' in refs
    assert "45 CFR 164.506(c)(1)" in refs
    assert {r.as_of for r in snap.sources} == {"2025-01-15"}
    assert all("/full/2025-01-15/title-45.xml" in r.origin for r in snap.sources)


def test_without_a_date_the_latest_ecfr_date_is_asked_for(tmp_path: Path, server: str) -> None:
    manifest = load_manifest(_manifest(tmp_path, "https://www.ecfr.gov"))
    fetch = HttpFetcher(timeout=5, retries=1)

    def local(url: str) -> bytes:
        return fetch(url.replace("https://www.ecfr.gov", server))

    snap = read_corpus(manifest, CorpusLocation(None, None, local))
    assert {r.as_of for r in snap.sources} == {"2026-11-18"}


def test_transient_server_errors_are_retried(tmp_path: Path, server: str) -> None:
    fetch = HttpFetcher(timeout=5, retries=3, backoff=0.01)
    _Handler.flaky["/api/versioner/v1/titles"] = 2
    assert b"2026-11-18" in fetch(f"{server}/api/versioner/v1/titles")
    assert _Handler.hits.count("/api/versioner/v1/titles") == 3


def test_offline_gives_one_clear_message_that_names_the_address_and_the_fix() -> None:
    fetch = HttpFetcher(timeout=2, retries=2, backoff=0.01)
    with pytest.raises(FetchError) as info:
        fetch("http://127.0.0.1:9/api/versioner/v1/titles")  # discard port: refused at once
    assert "127.0.0.1:9" in str(info.value)
    assert "--mirror" in info.value.hint


def test_a_missing_page_is_not_retried_and_says_to_check_the_address(server: str) -> None:
    fetch = HttpFetcher(timeout=5, retries=3, backoff=0.01)
    with pytest.raises(FetchError, match="HTTP 404") as info:
        fetch(f"{server}/nothing-here")
    assert _Handler.hits == ["/nothing-here"]
    assert "sources.toml" in info.value.hint
