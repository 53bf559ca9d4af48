"""Malformed sources stop the read with one message that names the file and what to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer.corpus import CorpusLocation, read_corpus
from indexer.errors import ManifestError, SourceError
from indexer.manifest import load_manifest
from tests.conftest import CORPUS, needs_corpus, write_manifest

pytestmark = needs_corpus


def _read(tmp_path: Path, manifest: Path, mirror: Path) -> None:
    read_corpus(load_manifest(manifest), CorpusLocation(mirror, None))


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    dest = tmp_path / "mirror"
    dest.mkdir()
    shutil.copy(CORPUS / "164.506.md", dest)
    return dest


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return write_manifest(tmp_path / "sources.toml", {"45-cfr-164.506"})


def test_a_file_with_only_its_header_block_is_refused(
    tmp_path: Path, mirror: Path, manifest: Path
) -> None:
    text = (mirror / "164.506.md").read_text()
    (mirror / "164.506.md").write_text(text[: text.index("---") + 4])
    with pytest.raises(SourceError, match=r"164\.506\.md: no text after the header block"):
        _read(tmp_path, manifest, mirror)


def test_a_file_holding_another_section_is_refused(
    tmp_path: Path, mirror: Path, manifest: Path
) -> None:
    shutil.copy(CORPUS / "164.501.md", mirror / "164.506.md")
    with pytest.raises(SourceError, match=r"holds section 164\.501, the manifest says 164\.506"):
        _read(tmp_path, manifest, mirror)


def test_malformed_xml_names_the_file_and_the_format(tmp_path: Path, mirror: Path) -> None:
    (mirror / "part164.xml").write_text("<DIV5><DIV8 N='164.506'><P>(a) text</DIV5>")
    manifest = write_manifest(
        tmp_path / "x.toml",
        {"45-cfr-164.506"},
        **{
            'mirror = "164.506.md"': 'mirror = "part164.xml"',
            'format = "markdown-section"': 'format = "ecfr-xml"',
        },
    )
    with pytest.raises(SourceError, match=r"part164\.xml: cannot parse source .* as ecfr-xml"):
        _read(tmp_path, manifest, mirror)


def test_a_text_file_posing_as_a_pdf_is_refused(tmp_path: Path, mirror: Path) -> None:
    (mirror / "guidance.pdf").write_text("this is not a PDF")
    manifest = write_manifest(
        tmp_path / "p.toml",
        {"45-cfr-164.506"},
        **{
            'mirror = "164.506.md"': 'mirror = "guidance.pdf"',
            'format = "markdown-section"': 'format = "pdf"',
        },
    )
    with pytest.raises(SourceError, match=r"guidance\.pdf: cannot parse source .* as pdf"):
        _read(tmp_path, manifest, mirror)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('kind = "regulation"', 'kind = "law"'), "source '45-cfr-164.506'.kind"),
        (('as_of = "2013-03-26"', 'as_of = "March 2013"'), "must be a date YYYY-MM-DD"),
        (("schema = 1", "schema = 1\nsauce = 2"), "sauce: unknown key"),
        (('url = "https', 'url = "ftp'), "source '45-cfr-164.506'.url"),
    ],
)
def test_manifest_mistakes_name_the_entry_and_the_key(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    path = write_manifest(tmp_path / "m.toml", {"45-cfr-164.506"}, **{edit[0]: edit[1]})
    with pytest.raises(ManifestError, match=message.replace("(", r"\(")) as info:
        load_manifest(path)
    assert str(path) in str(info.value) and info.value.hint


def test_a_duplicate_source_id_is_refused(tmp_path: Path) -> None:
    path = write_manifest(tmp_path / "d.toml", {"45-cfr-164.506"})
    text = path.read_text()
    path.write_text(text + text[text.index("[[source]]") :])
    with pytest.raises(ManifestError, match="appears twice"):
        load_manifest(path)


def test_the_same_section_from_two_sources_is_refused(tmp_path: Path, mirror: Path) -> None:
    path = write_manifest(tmp_path / "d.toml", {"45-cfr-164.506"})
    text = path.read_text()
    entry = text[text.index("[[source]]") :].replace('id = "45-cfr-164.506"', 'id = "copy"')
    path.write_text(text + entry)
    with pytest.raises(SourceError, match=r"comes from both '45-cfr-164\.506' and 'copy'") as info:
        read_corpus(load_manifest(path), CorpusLocation(mirror, None))
    assert "indexed once" in info.value.hint


@pytest.mark.slow
def test_a_source_pointed_at_the_hhs_pdf_yields_the_same_passages_as_the_markdown(
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "pdf.toml"
    manifest.write_text(
        'schema = 1\n\n[[source]]\nid = "hhs-combined-pdf"\ntitle = "HHS combined text"\n'
        'citation = "45 CFR Part 164"\nkind = "regulation"\n'
        'url = "https://www.hhs.gov/sites/default/files/hipaa-simplification-201303.pdf"\n'
        'mirror = "originals/hipaa-simplification-201303.pdf"\nformat = "pdf"\n'
        'as_of = "2013-03-26"\nlicense = "public domain"\nsections = ["164.501", "164.506"]\n'
    )
    from_pdf = read_corpus(load_manifest(manifest), CorpusLocation(CORPUS, None))
    md_manifest = write_manifest(tmp_path / "md.toml", {"45-cfr-164.501", "45-cfr-164.506"})
    from_md = read_corpus(load_manifest(md_manifest), CorpusLocation(CORPUS, None))
    assert [(p.ref, p.text, p.context) for p in from_pdf.passages] == [
        (p.ref, p.text, p.context) for p in from_md.passages
    ]
