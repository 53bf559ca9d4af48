"""Downloading sources from their official addresses when there is no mirror.

Every failure becomes one :class:`FetchError` that says which address failed and
what to do, because the commonest cause by far is a machine without internet
access, where the answer is a mirror folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx

from indexer.errors import FetchError

ECFR_TITLES_URL = "https://www.ecfr.gov/api/versioner/v1/titles"
OFFLINE_HINT = (
    "This machine cannot reach the official source. Point the indexer at a mirror folder "
    "(--mirror DIR or TPO_CORPUS_MIRROR) holding the files named in corpus/sources.toml."
)

Fetcher = Callable[[str], bytes]


class HttpFetcher:
    """GET with a timeout and a few retries with backoff on transient failures."""

    def __init__(self, timeout: float = 20.0, retries: int = 3, backoff: float = 1.0) -> None:
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def __call__(self, url: str) -> bytes:
        last: Exception | None = None
        headers = {"User-Agent": "tpo-check indexer", "Accept": "application/xml, text/html, */*"}
        for attempt in range(self.retries):
            try:
                with httpx.Client(timeout=self.timeout, follow_redirects=True) as client:
                    response = client.get(url, headers=headers)
                if response.status_code >= 500 or response.status_code == 429:
                    last = FetchError(f"{url}: HTTP {response.status_code}")
                elif response.status_code >= 400:
                    raise FetchError(
                        f"{url}: HTTP {response.status_code}",
                        "Check the address (and the --as-of date) in corpus/sources.toml.",
                    )
                else:
                    return response.content
            except httpx.HTTPError as exc:
                last = exc
            if attempt + 1 < self.retries:
                time.sleep(self.backoff * 2**attempt)
        raise FetchError(f"cannot download {url}: {last}", OFFLINE_HINT)


def latest_ecfr_date(fetch: Fetcher, title: int = 45) -> str:
    """The newest date the eCFR versioner serves for a title (``up_to_date_as_of``)."""
    data = json.loads(fetch(ECFR_TITLES_URL))
    for entry in data.get("titles", []):
        if entry.get("number") == title:
            date = entry.get("up_to_date_as_of") or entry.get("latest_amended_on")
            if isinstance(date, str):
                return date
    raise FetchError(f"{ECFR_TITLES_URL}: no date for title {title}", "Pass --as-of YYYY-MM-DD.")
