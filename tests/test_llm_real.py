"""The real LLM paths: the embedded SmolLM2 model, and an OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.llm import LLMAnswer, embedded_backend, openai_backend, smollm_path
from app.models import Category
from app.retrieval import Retrieved
from indexer.models import Passage, SourceKind
from tests.conftest import needs_corpus, tpo_env

pytestmark = pytest.mark.slow

PASSAGES = [
    Retrieved(
        "P1",
        Passage(
            '45 CFR 164.501 "marketing" (1)',
            "45-cfr-164.501",
            SourceKind.REGULATION,
            "Definitions.",
            "Marketing means to make a communication about a product or service "
            "that encourages recipients of the communication to purchase or use "
            "the product or service.",
        ),
        "search",
    ),
    Retrieved(
        "P2",
        Passage(
            '45 CFR 164.501 "treatment"',
            "45-cfr-164.501",
            SourceKind.REGULATION,
            "Definitions.",
            "Treatment means the provision, coordination, or management of "
            "health care and related services by one or more health care "
            "providers.",
        ),
        "search",
    ),
]


def test_the_embedded_model_answers_in_the_bounded_schema() -> None:
    backend = embedded_backend(threads=1, max_tokens=160)
    answer = backend.answer("A drug company pays us to mail patients about its new drug.", PASSAGES)
    assert isinstance(answer, LLMAnswer)
    assert answer.category in set(Category)
    assert answer.citations and set(answer.citations) <= {"P1", "P2"}
    assert len(answer.rationale) <= 300


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--model",
            str(smollm_path()),
            "--model_alias",
            "local",
            "--n_ctx",
            "2048",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("llama_cpp.server did not start")
        time.sleep(0.3)
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(10)


def test_an_openai_compatible_server_answers_through_function_calling(llama_server: str) -> None:
    backend = openai_backend(llama_server, "local", "none", timeout=120)
    answer = backend.answer("The hospital sends the chart to the patient's cardiologist.", PASSAGES)
    assert answer.category in set(Category)
    assert set(answer.citations) <= {"P1", "P2"}


@needs_corpus
def test_classify_with_the_embedded_model_end_to_end(tmp_path: Path) -> None:
    env = {**os.environ, **tpo_env(tmp_path, {"45-cfr-164.501", "45-cfr-164.508"})}
    run = [sys.executable, "-m", "app.cli"]
    subprocess.run(
        [*run, "index", "build"],
        env=env,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    proc = subprocess.run(
        [
            *run,
            "classify",
            "A drug company pays us to mail patients about its new inhaler.",
            "--llm",
            "embedded",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    det = json.loads(proc.stdout)
    assert det["category"] == "marketing" and det["authorization_required"] is True
    assert det["llm"]["backend"] == "embedded" and "error" not in det["llm"]
    assert det["llm"]["category"] in [c.value for c in Category]
    assert det["timings_ms"]["llm"] > 0
    assert det["status"] in ("confirmed", "needs_review")  # the small model never decides
    piped = subprocess.run(
        [*run, "classify", "-", "--llm", "none", "--json"],
        env=env,
        capture_output=True,
        text=True,
        input="The hospital wants to sell its patient list to a data broker.",
        timeout=600,
    )
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["category"] == "sale_of_phi"


@pytest.fixture
def ollama_like_server() -> Iterator[tuple[str, list[dict[str, object]]]]:
    """A loopback HTTP server speaking Ollama's /api/chat, to drive the real client path."""
    import http.server
    import threading

    seen: list[dict[str, object]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body)
            answer = {
                "category": "treatment",
                "authorization_required": False,
                "citations": ["P2"],
                "rationale": "Care of the patient.",
            }
            reply = {
                "model": body["model"],
                "created_at": "2026-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": json.dumps(answer)},
                "done": True,
                "done_reason": "stop",
            }
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: object) -> None:
            return

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()


def test_the_ollama_backend_sends_the_schema_as_format(
    ollama_like_server: tuple[str, list[dict[str, object]]],
) -> None:
    from app.llm import ollama_backend

    url, seen = ollama_like_server
    answer = ollama_backend(url, "llama3.1").answer(
        "We send the chart to the cardiologist.", PASSAGES
    )
    assert answer.category is Category.TREATMENT and answer.citations == ["P2"]
    fmt = seen[0]["format"]
    assert isinstance(fmt, dict) and fmt["properties"]["citations"]["items"]["enum"] == ["P1", "P2"]
