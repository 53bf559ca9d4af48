"""Versioned, incremental updates, with a fake embedder and an in-memory Chroma."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from app.services import Services
from indexer.errors import IndexStateError, SourceError
from indexer.update import diff_versions
from tests.conftest import needs_corpus

pytestmark = needs_corpus


def build(svc: Services) -> dict[str, object]:
    manifest, snapshot = svc.read_corpus()
    return svc.indexer().build(snapshot, manifest).to_json()


def update(svc: Services) -> dict[str, object]:
    manifest, snapshot = svc.read_corpus()
    return svc.indexer().update(snapshot, manifest).to_json()


def with_mirror(svc: Services, mirror: Path) -> Services:
    settings = svc.settings.model_copy(update={"corpus_mirror": mirror})
    return Services(settings, svc.embedder_override, svc.model_id, svc.client_override)


def test_a_build_records_a_version_with_every_passage_embedded(fake_services: Services) -> None:
    report = build(fake_services)
    current = fake_services.db.current()
    assert current is not None and report["version"] == current.id == "v1"
    assert report["added"] == report["embedded"] == report["passages"] == current.passages
    assert fake_services.store.count(current.collection) == current.passages
    assert {s["id"] for s in current.sources} >= {"45-cfr-164.501", "hhs-faq-refill-reminders"}


def test_an_update_with_nothing_changed_reports_zero_and_embeds_nothing(
    fake_services: Services,
) -> None:
    build(fake_services)
    report = update(fake_services)
    assert (report["added"], report["changed"], report["removed"], report["embedded"]) == (
        0,
        0,
        0,
        0,
    )
    assert report["new_version"] is False and report["version"] == "v1"


def test_changing_one_paragraph_embeds_one_passage_and_reports_its_citation(
    fake_services: Services, mirror_copy: Path
) -> None:
    build(fake_services)
    target = mirror_copy / "164.506.md"
    target.write_text(
        target.read_text().replace(
            "organized health care arrangement may", "organized health care arrangement can"
        )
    )
    svc = with_mirror(fake_services, mirror_copy)
    report = update(svc)
    assert report["version"] == "v2" and report["previous"] == "v1"
    assert (report["added"], report["changed"], report["removed"]) == (0, 1, 0)
    assert report["embedded"] == 1
    change = report["changes"][0]  # type: ignore[index]
    assert change["citation"] == "45 CFR 164.506(c)(5)"
    assert "arrangement may" in change["old_text"] and "arrangement can" in change["new_text"]
    # The old collection is gone once the new version serves; only one remains.
    assert len(svc.store.collections()) == 1


def test_a_removed_paragraph_is_reported_and_leaves_the_store(
    fake_services: Services, mirror_copy: Path
) -> None:
    build(fake_services)
    target = mirror_copy / "164.506.md"
    text = target.read_text()
    start = text.index("(5) A covered entity that participates")
    end = text.index("\n\n", start)
    target.write_text(text[:start] + text[end + 2 :])
    svc = with_mirror(fake_services, mirror_copy)
    report = update(svc)
    assert (report["added"], report["changed"], report["removed"]) == (0, 0, 1)
    current = svc.db.current()
    assert current is not None
    assert "45 CFR 164.506(c)(5)" not in svc.store.ids(current.collection)
    changes = diff_versions(svc.db, "v1", "v2")
    assert [(c.citation, c.change) for c in changes] == [("45 CFR 164.506(c)(5)", "removed")]
    assert changes[0].new_text is None and changes[0].old_text


def test_diff_of_an_unknown_version_names_the_known_ones(fake_services: Services) -> None:
    build(fake_services)
    with pytest.raises(IndexStateError, match="no corpus version 'v9'") as info:
        diff_versions(fake_services.db, "v1", "v9")
    assert "v1" in info.value.hint


def test_a_bad_source_stops_the_update_and_the_previous_version_keeps_serving(
    fake_services: Services, mirror_copy: Path
) -> None:
    build(fake_services)
    (mirror_copy / "164.508.md").write_text("")
    svc = with_mirror(fake_services, mirror_copy)
    with pytest.raises(SourceError, match=r"164\.508\.md: the file is empty"):
        update(svc)
    current = svc.db.current()
    assert current is not None and current.id == "v1"
    version, hits = svc.searcher.search("authorization for marketing", k=3)
    assert version == "v1" and len(hits) == 3


def test_leftovers_of_a_killed_update_are_never_served_and_are_cleaned(
    fake_services: Services,
) -> None:
    build(fake_services)
    fake_services.store.client.create_collection("tpo-v2-deadbeef")  # as a killed update leaves
    _version, hits = fake_services.searcher.search("psychotherapy notes")
    assert hits
    report = update(fake_services)
    assert report["cleaned_collections"] == ["tpo-v2-deadbeef"]
    assert len(fake_services.store.collections()) == 1


def test_a_second_writer_is_refused_while_one_holds_the_lock(fake_services: Services) -> None:
    lock = fake_services.settings.lock_file
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(IndexStateError, match="another index build or update is running"):
            build(fake_services)
    finally:
        os.close(fd)


def test_search_reports_dense_and_keyword_ranks_fused(fake_services: Services) -> None:
    build(fake_services)
    version, hits = fake_services.searcher.search("psychotherapy notes", k=5)
    assert version == "v1" and len(hits) == 5
    assert hits == sorted(hits, key=lambda h: -h.score)
    assert any(h.keyword_rank == 1 for h in hits)
    top_keyword = next(h for h in hits if h.keyword_rank == 1)
    assert (
        "psychotherapy"
        in (top_keyword.passage.text + " ".join(top_keyword.passage.context)).lower()
    )
    assert all(h.dense_rank is not None or h.keyword_rank is not None for h in hits)


def test_search_without_an_index_says_to_build_one(fake_services: Services) -> None:
    with pytest.raises(IndexStateError, match="no index yet"):
        fake_services.searcher.search("marketing")
