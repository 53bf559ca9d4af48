"""Read every source of the manifest into passages, from a mirror or the official address.

The result carries, per source, the date its text reflects and a hash of the
bytes read, so a corpus version can say exactly what it was built from.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from indexer.chunk import document_passages, law_passages
from indexer.errors import CitationError, SourceError
from indexer.fetch import Fetcher, latest_ecfr_date
from indexer.manifest import Manifest, Source, SourceFormat
from indexer.markdown import parse_section_markdown
from indexer.models import Citation, Passage, SourceKind
from indexer.sections import RawSection


@dataclass(frozen=True)
class SourceRecord:
    """What one source contributed to a corpus version (the ``index status`` contract)."""

    id: str
    kind: str
    as_of: str
    hash: str
    passages: int
    origin: str

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "as_of": self.as_of,
            "hash": self.hash,
            "passages": self.passages,
            "origin": self.origin,
        }


@dataclass(frozen=True)
class CorpusSnapshot:
    passages: tuple[Passage, ...]
    sources: tuple[SourceRecord, ...]


@dataclass(frozen=True)
class CorpusLocation:
    """Where sources come from: mirror folders, or the network through ``fetch``.

    ``as_of`` pins the eCFR to a date when downloading; ``None`` asks the eCFR for
    its latest date.
    """

    mirror: Path | None
    seeds: Path | None = None
    fetch: Fetcher | None = None
    as_of: str | None = None
    # How a mirror file's bytes are read; tests put a fault here (a file that vanishes
    # between the manifest and the read), nothing else replaces it.
    read: Callable[[Path], bytes] = Path.read_bytes


Progress = Callable[[str], None]


def read_corpus(
    manifest: Manifest, where: CorpusLocation, progress: Progress | None = None
) -> CorpusSnapshot:
    """Read and parse every source; any bad source stops the whole read, naming it."""
    passages: list[Passage] = []
    records: list[SourceRecord] = []
    ecfr_date: str | None = where.as_of
    for source in manifest.source:
        if progress:
            progress(source.id)
        root = where.seeds if source.root == "seeds" else where.mirror
        if root is None and source.kind is SourceKind.SECONDARY:
            # Secondary articles are context, not law, and have no official copy to fetch.
            records.append(
                SourceRecord(
                    source.id, source.kind.value, source.as_of, "", 0, "skipped: no mirror folder"
                )
            )
            continue
        if root is not None and not root.is_dir():
            raise SourceError(
                f"{root}: the mirror folder does not exist",
                "Pass --mirror DIR (or set TPO_CORPUS_MIRROR) to the folder of corpus files.",
            )
        if root is not None:
            path = root / source.mirror
            if not path.is_file():
                raise SourceError(
                    f"{path}: listed in the manifest as source {source.id!r} but not found",
                    "Restore the file in the mirror folder or fix `mirror` in corpus/sources.toml.",
                )
            data = _read_mirror_file(where.read, path, source.id)
            as_of, origin = source.as_of, str(path)
            found = _parse(source, data, origin, source.format, as_of)
        else:
            if where.fetch is None:
                raise SourceError(
                    f"source {source.id!r}: no mirror folder and downloading is off",
                    "Pass --mirror DIR or allow downloads.",
                )
            url = source.url
            if "{date}" in url:
                ecfr_date = ecfr_date or latest_ecfr_date(where.fetch)
                url = url.replace("{date}", ecfr_date)
            data = where.fetch(url)
            # A downloaded eCFR text reflects the date asked for, not the mirror's date.
            as_of = ecfr_date if "{date}" in source.url and ecfr_date else source.as_of
            origin = url
            found = _parse(source, data, origin, _downloaded_format(source), as_of)
        passages.extend(found)
        records.append(
            SourceRecord(
                id=source.id,
                kind=source.kind.value,
                as_of=as_of,
                hash=hashlib.sha256(data).hexdigest()[:16],
                passages=len(found),
                origin=origin,
            )
        )
    _check_unique(passages)
    return CorpusSnapshot(tuple(passages), tuple(records))


def _read_mirror_file(read: Callable[[Path], bytes], path: Path, source_id: str) -> bytes:
    """The bytes of one mirror file; a file that disappears or cannot be read is a SourceError.

    The manifest is read first and each file after it, so a mirror being replaced
    under a running update (an rsync, a colleague's copy) shows up here, not earlier.
    Nothing has been written yet at this point: the current version keeps serving.
    """
    try:
        return read(path)
    except FileNotFoundError as exc:
        raise SourceError(
            f"{path}: source {source_id!r} disappeared while the update was reading the mirror",
            "Something is changing the mirror folder; let it finish, then run the update again. "
            "Nothing was changed: the index still serves its current version.",
        ) from exc
    except OSError as exc:
        raise SourceError(
            f"{path}: cannot read source {source_id!r}: {exc.strerror or exc}",
            "Check the file's permissions and the disk, then run the update again. "
            "Nothing was changed: the index still serves its current version.",
        ) from exc


def _downloaded_format(source: Source) -> SourceFormat:
    """The official address serves a different format than the mirror file."""
    if "/api/versioner/" in source.url:
        return SourceFormat.ECFR_XML
    if source.format in (SourceFormat.MARKDOWN_SECTION, SourceFormat.GUIDANCE_MARKDOWN):
        return SourceFormat.GUIDANCE_HTML
    return source.format


def _parse(
    source: Source, data: bytes, origin: str, fmt: SourceFormat, as_of: str
) -> list[Passage]:
    if not data.strip():
        raise SourceError(f"{origin}: the file is empty", "Restore it from the official source.")
    try:
        sections = _sections(source, data, origin, fmt)
    except SourceError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(
            f"{origin}: cannot parse source {source.id!r} as {fmt.value}: {exc}",
            "Check the file is the one corpus/sources.toml describes, complete and unedited.",
        ) from exc
    out: list[Passage] = []
    for section in sections:
        if source.is_law:
            code, title = _code_and_title(source)
            out.extend(
                law_passages(
                    section,
                    source_id=source.id,
                    kind=source.kind,
                    code=code,
                    title=title,
                    as_of=as_of,
                    url=source.url,
                )
            )
        else:
            out.extend(
                document_passages(
                    section, source_id=source.id, kind=source.kind, as_of=as_of, url=source.url
                )
            )
    if not out:
        raise SourceError(
            f"{origin}: source {source.id!r} yielded no passages",
            "Check the file holds the text the manifest describes.",
        )
    return out


def _sections(source: Source, data: bytes, origin: str, fmt: SourceFormat) -> list[RawSection]:
    wanted = source.sections
    if fmt is SourceFormat.MARKDOWN_SECTION:
        section = parse_section_markdown(data.decode("utf-8"), origin)
        if source.is_law:
            expected = _single_section(source) or section.number
            if section.number and section.number != expected:
                raise SourceError(
                    f"{origin}: holds section {section.number}, the manifest says {expected}",
                    "Point `mirror` at the right file.",
                )
            section = RawSection(expected, section.heading, section.paragraphs)
        return [section]
    if fmt is SourceFormat.ECFR_XML:
        from indexer.ecfr import parse_ecfr_xml

        if wanted is None and source.is_law:
            single = _single_section(source)
            wanted = (single,) if single else None
        return parse_ecfr_xml(data, wanted)
    if fmt is SourceFormat.PDF:
        import tempfile

        from indexer.pdf import read_pdf_sections

        with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
            tmp.write(data)
            tmp.flush()
            return read_pdf_sections(Path(tmp.name), wanted)
    if fmt is SourceFormat.GUIDANCE_HTML:
        from indexer.html import parse_guidance_html

        page = parse_guidance_html(data, source.id)
        if source.is_law:  # e.g. a U.S. Code section page: the manifest says which section
            page = RawSection(_single_section(source) or page.number, page.heading, page.paragraphs)
        return [page]
    from indexer.html import parse_guidance_text

    text = data.decode("utf-8")
    section = parse_guidance_text(text, source.id)
    if source.kind is SourceKind.SECONDARY and not section.heading:
        section = RawSection(section.number, source.title, section.paragraphs)
    return [section]


def _code_and_title(source: Source) -> tuple[str, int]:
    """ "45 CFR 164.501" or "45 CFR Part 164" → ("CFR", 45); "42 U.S.C. 17936" → ("U.S.C.", 42)."""
    m = re.match(r"\s*(\d+)\s*(C\.?F\.?R\.?|U\.?S\.?C\.?)", source.citation)
    if not m:
        raise SourceError(
            f"source {source.id!r}: citation {source.citation!r} names no CFR or U.S.C. title",
            'Write it like "45 CFR 164.501" or "45 CFR Part 164".',
        )
    return ("U.S.C." if m.group(2).upper().startswith("U") else "CFR"), int(m.group(1))


def _single_section(source: Source) -> str | None:
    """The one section a law source holds, when its citation names one."""
    try:
        return Citation.parse(source.citation).section
    except CitationError:
        return None


def _check_unique(passages: list[Passage]) -> None:
    seen: dict[str, str] = {}
    for p in passages:
        if p.ref in seen:
            raise SourceError(
                f"passage {p.ref} comes from both {seen[p.ref]!r} and {p.source_id!r}",
                "Each section must be indexed once: remove the duplicate source.",
            )
        seen[p.ref] = p.source_id
