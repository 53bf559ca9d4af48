"""Documents staff already have — a draft letter, a flyer, an e-mail, an agreement — as text.

A privacy officer classifies the thing itself, not a description of it, so every reader
keeps the document's words in reading order and nothing else: the classifier finds the
facts (who sends, to whom, about what, who pays) in those words, and the evidence it
shows is located by character offsets in ``Document.text``.

The type is decided by the extension *and* the content.  A binary format must carry its
signature (a ``.pdf`` that does not start with ``%PDF-`` says so instead of producing
garbage); a file whose content is plainly a PDF or a Word file is read as one whatever its
name, with a notice.  Every failure a user can fix raises a :class:`DocumentError` with
a hint.

Text encoding, decided once: UTF-8 (with or without a byte-order mark), then UTF-16 when a
byte-order mark says so, then Windows-1252 — what Word and Outlook on Windows save as
"ANSI" — with a notice in ``meta["notice"]``, because a wrong guess there changes only
curly quotes and accented letters, never the facts.  Bytes that are not even
Windows-1252 (or NUL bytes in a "text" file) are refused: guessing further would classify
noise.
"""

from __future__ import annotations

import email
import io
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from statistics import median
from typing import Any, Literal

from bs4 import BeautifulSoup
from bs4.element import Comment, Tag

from indexer.errors import TpoError

Kind = Literal["text", "markdown", "html", "email", "pdf", "docx"]

EXTENSIONS: dict[str, Kind] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".eml": "email",
    ".pdf": "pdf",
    ".docx": "docx",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SUPPORTED = "plain text (.txt), markdown (.md), HTML (.html), e-mail (.eml), PDF, Word (.docx)"
MAX_BYTES = 50 * 1024 * 1024  # a template or a letter; anything larger is not one document


class DocumentError(TpoError):
    """A document that cannot be read as it is."""


class UnsupportedDocument(DocumentError):
    hint = f"Save it as one of: {SUPPORTED}."


class EncryptedDocument(DocumentError):
    hint = "Remove the password (print or export to an unprotected PDF) and try again."


class ScannedDocument(DocumentError):
    hint = "Run OCR first (for example, export a searchable PDF) and try again."


class CorruptDocument(DocumentError):
    hint = "Open it in the program that made it, save a fresh copy, and try again."


class EmptyDocument(DocumentError):
    hint = "Check that the file holds the text of the communication or agreement."


class UndecodableText(DocumentError):
    hint = "Save the file as UTF-8 text (in most editors: Save As → Encoding: UTF-8)."


@dataclass(frozen=True)
class Document:
    """A document's words in reading order; evidence offsets point into ``text``."""

    name: str
    kind: str
    text: str
    meta: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "meta": dict(self.meta), "text": self.text}


def kind_for_name(name: str) -> Kind | None:
    """The kind a file name claims, or None for a type tpo-check does not read."""
    return EXTENSIONS.get(Path(name).suffix.lower())


def read_path(path: Path) -> Document:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise UnsupportedDocument(
                f"{path.name}: {size / 1e6:.0f} MB is too large for one document",
                "Classify the communication itself, not an archive or a scan of many pages.",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path}: cannot read the file ({exc.strerror})") from exc
    return read_document(path.name, data)


def read_document(name: str, data: bytes) -> Document:
    """Read ``data`` (a file called ``name``) into a :class:`Document`."""
    if not data.strip():
        raise EmptyDocument(f"{name}: the file is empty")
    claimed = kind_for_name(name)
    sniffed = sniff(data)
    notice = ""
    if claimed in ("pdf", "docx") and sniffed != claimed:
        what = _DESCRIBE.get(sniffed or "", "plain text or unrecognised data")
        raise CorruptDocument(
            f"{name}: the name says {claimed.upper()} but the content is {what}",
            "Check that this is the right file; rename it to its real type if it is.",
        )
    kind: Kind
    if sniffed in ("pdf", "docx"):
        kind = sniffed  # type: ignore[assignment]
        if claimed != sniffed:
            notice = f"the name says {claimed or 'nothing'} but the content is {sniffed.upper()}"
    elif sniffed in _REFUSED:
        raise UnsupportedDocument(f"{name}: this is {_DESCRIBE[sniffed]}", _REFUSED[sniffed])
    elif claimed is not None:
        kind = claimed
    elif sniffed in ("email", "html"):
        kind = sniffed  # type: ignore[assignment]
    elif Path(name).suffix == "":
        kind = "text"  # no extension: read what plainly is text
    else:
        raise UnsupportedDocument(f"{name}: tpo-check does not read {Path(name).suffix} files")
    doc = _READERS[kind](name, data)
    # The pipeline reads NFC text without control characters (app/inputs.py); the document
    # is kept in that form so that evidence offsets into it stay exact.
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", doc.text))
    doc = Document(doc.name, doc.kind, text, doc.meta)
    if not doc.text.strip():
        raise EmptyDocument(f"{name}: there is no text in this {kind} file")
    if notice:
        doc.meta["notice"] = "; ".join(filter(None, [doc.meta.get("notice"), notice]))
    return doc


# -- sniffing --------------------------------------------------------------------------------
_DESCRIBE = {
    "pdf": "a PDF",
    "docx": "a Word document (.docx)",
    "zip": "a ZIP archive (or an Office file other than .docx)",
    "broken-zip": "a damaged ZIP package (a truncated or corrupt Office file)",
    "doc": "an old Word 97–2003 (.doc) or Office binary file",
    "image": "an image",
    "rtf": "a Rich Text (.rtf) file",
    "email": "an e-mail message",
    "html": "an HTML page",
}
_REFUSED = {
    "image": "It has no text to read: run OCR first, or save the text itself.",
    "doc": "Open it in Word and save it as .docx (or PDF).",
    "zip": f"Unpack it and classify the files inside ({SUPPORTED}).",
    "broken-zip": "Open it in the program that made it, save a fresh copy, and try again.",
    "rtf": "Save it as .docx or plain text.",
}
_EMAIL_HEAD = re.compile(
    rb"^(?:(?:From|To|Subject|Date|Received|Return-Path|Message-ID|MIME-Version|"
    rb"Delivered-To|Cc)\s*:[^\n]*\n)",
    re.IGNORECASE,
)
_HTML_HEAD = re.compile(rb"^\s*(?:<!doctype html|<html|<head|<body|<meta|<!--)", re.IGNORECASE)


def sniff(data: bytes) -> str | None:
    """What the bytes are, by signature (None: no signature, presumably text)."""
    head = data[:2048]
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
            return "broken-zip"
        return "docx" if "word/document.xml" in names else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")):
        return "image"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if _EMAIL_HEAD.match(head.lstrip(b"\xef\xbb\xbf")):
        return "email"
    if _HTML_HEAD.match(head.lstrip(b"\xef\xbb\xbf")):
        return "html"
    return None


# -- text ------------------------------------------------------------------------------------
def decode_text(name: str, data: bytes) -> tuple[str, dict[str, str]]:
    """Bytes → str by the policy of the module docstring; the meta records the encoding."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), {"encoding": "utf-16"}
        except UnicodeDecodeError as exc:
            raise UndecodableText(f"{name}: broken UTF-16 text ({exc.reason})") from exc
    if b"\x00" in data:
        raise UndecodableText(f"{name}: this is binary data, not text")
    try:
        return data.decode("utf-8-sig"), {"encoding": "utf-8"}
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise UndecodableText(
            f"{name}: the text is neither UTF-8 nor Windows-1252 (byte {exc.start})"
        ) from exc
    return text, {
        "encoding": "cp1252",
        "notice": "not UTF-8: read as Windows-1252; check quotes and accented letters",
    }


def _tidy(text: str) -> str:
    """Line ends unified, trailing spaces and runs of blank lines removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def read_text(name: str, data: bytes) -> Document:
    text, meta = decode_text(name, data)
    return Document(name, "text", _tidy(text), meta)


_MD_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^```.*$|^~~~.*$", re.MULTILINE), ""),  # code fences (the code stays)
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: their alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links: their words
    (re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$", re.MULTILINE), r"\1"),  # headings
    (re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE), ""),  # quotes
    (re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.MULTILINE), ""),  # rules
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?!\w)"), r"\1"),  # italics
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"<[^>\n]+>"), ""),  # inline HTML tags
)


def read_markdown(name: str, data: bytes) -> Document:
    """Markdown as the reader sees it rendered: the words without the markup, so a fact's
    evidence reads like the sentence the recipient reads."""
    text, meta = decode_text(name, data)
    for pattern, repl in _MD_RULES:
        text = pattern.sub(repl, text)
    return Document(name, "markdown", _tidy(text), meta)


# -- HTML ------------------------------------------------------------------------------------
_HTML_SKIP = ("script", "style", "noscript", "template", "head", "svg", "nav")
_HTML_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "dd", "details", "div", "dl",
        "dt", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "ol", "p", "pre", "section", "summary", "table", "td", "th", "tr",
        "ul", "tbody", "thead", "form", "center",
    }
)  # fmt: skip


def html_to_text(markup: str | bytes) -> tuple[str, str]:
    """The visible text of an HTML page or e-mail body, one block per paragraph, and its title.

    Headers and footers stay: in a newsletter or a marketing e-mail they often say who
    sends it and who sponsors it.  Navigation and scripts go.
    """
    soup = BeautifulSoup(markup, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(_HTML_SKIP):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(True):
        if not isinstance(tag, Tag):
            continue
        if tag.name == "br":
            tag.replace_with("\n")
        elif tag.name in _HTML_BLOCKS:
            tag.insert_before("\n\n")
            tag.insert_after("\n\n")
    text = soup.get_text()
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in text.split("\n"))
    return _tidy("\n".join(lines)), title


def read_html(name: str, data: bytes) -> Document:
    text, title = html_to_text(data)
    return Document(name, "html", text, {"title": title} if title else {})


# -- e-mail ----------------------------------------------------------------------------------
EMAIL_HEADERS = ("from", "to", "cc", "subject", "date")


def read_email(name: str, data: bytes) -> Document:
    """An RFC 5322 message: headers, the plain-text body (else the HTML body as text), and
    the attachments' names — listed, not read: an attached spreadsheet of patients is a fact
    about the disclosure, its rows are not needed to classify it."""
    msg = email.message_from_bytes(data, policy=policy.default)
    if not isinstance(msg, EmailMessage) or not any(msg.get(h) for h in ("from", "to", "subject")):
        raise CorruptDocument(
            f"{name}: not an e-mail message (no From, To or Subject header)",
            "Save the message from the mail program as .eml (File → Save As).",
        )
    meta: dict[str, str] = {}
    for header in EMAIL_HEADERS:
        value = msg.get(header)
        if value:
            meta[header] = " ".join(str(value).split())
    body = ""
    part = msg.get_body(preferencelist=("plain",))
    try:
        if part is not None:
            body = _tidy(str(part.get_content()))
        else:
            part = msg.get_body(preferencelist=("html",))
            if part is not None:
                body = html_to_text(str(part.get_content()))[0]
    except (LookupError, ValueError) as exc:  # unknown charset, broken transfer encoding
        raise CorruptDocument(f"{name}: the message body cannot be decoded ({exc})") from exc
    attachments = [a.get_filename() or "(unnamed)" for a in msg.iter_attachments()]
    if attachments:
        meta["attachments"] = ", ".join(attachments)
    head = "\n".join(f"{h.capitalize()}: {meta[h]}" for h in EMAIL_HEADERS if h in meta)
    text = head + "\n\n" + body
    if attachments:
        text += "\n\nAttachments: " + meta["attachments"]
    if not body and not meta.get("subject"):
        raise EmptyDocument(f"{name}: the message has neither a subject nor a body")
    return Document(name, "email", text.strip(), meta)


def email_field_span(doc: Document, header: str) -> tuple[int, int] | None:
    """Where the value of ``header`` (from, to, subject …) sits in an e-mail's ``text``."""
    value = doc.meta.get(header)
    if value is None:
        return None
    label = f"{'Attachments' if header == 'attachments' else header.capitalize()}: "
    at = doc.text.find(label + value)
    return None if at < 0 else (at + len(label), at + len(label) + len(value))


def email_body_span(doc: Document) -> tuple[int, int]:
    """The body's place in an e-mail's ``text``: after the header block, before attachments."""
    start = doc.text.find("\n\n")
    start = len(doc.text) if start < 0 else start + 2
    end = len(doc.text)
    att = email_field_span(doc, "attachments")
    if att is not None:
        end = max(start, att[0] - len("Attachments: ") - 2)
    return start, end


# -- PDF -------------------------------------------------------------------------------------
def read_pdf(name: str, data: bytes) -> Document:
    """A PDF's text in reading order: columns one after the other, not line-interleaved."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

    from indexer.pdf import _drop_running, _page_words

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [_page_words(page) for page in pdf.pages]
            images = sum(len(page.images) for page in pdf.pages)
            info = pdf.metadata or {}
    except (PdfminerException, MalformedPDFException, PDFPasswordIncorrect) as exc:
        cause = exc.args[0] if exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError) or isinstance(
            exc, PDFPasswordIncorrect
        ):
            raise EncryptedDocument(f"{name}: the PDF is protected by a password") from exc
        raise CorruptDocument(f"{name}: not a readable PDF ({cause})") from exc
    except Exception as exc:  # pdfminer raises bare errors deep inside broken files
        raise CorruptDocument(f"{name}: not a readable PDF ({type(exc).__name__})") from exc
    if not any(pages):
        if images:
            raise ScannedDocument(
                f"{name}: no text to read: it looks like a scanned image; run OCR first"
            )
        raise EmptyDocument(f"{name}: the PDF has no text")
    texts = [pdf_page_text(words) for words in _drop_running(pages)]
    meta = {"pages": str(len(pages))}
    blank = [str(i) for i, words in enumerate(pages, 1) if not words]
    if blank:
        meta["notice"] = f"no text on page(s) {', '.join(blank)} (scanned?); they were not read"
    title = info.get("Title")
    if isinstance(title, str) and title.strip():
        meta["title"] = title.strip()
    return Document(name, "pdf", "\n\n".join(t for t in texts if t), meta)


# A gutter must be clear in this share of the page's rows, with words on both sides in
# this share of them: a headline or a footer may cross it, a ragged margin is not one.
_GUTTER_CLEAR = 0.75
_GUTTER_SPLIT = 0.4
_GUTTER_MIN_WIDTH = 5.0  # pt; wider than a word space (indexer/pdf.py measured 1.9–4 pt)
_PARAGRAPH_STEP = 1.5  # a step down a column above this many line pitches starts a paragraph


def pdf_page_text(words: Sequence[Any]) -> str:
    """One page's text in reading order.

    Rows that cross a column gutter (a headline above two columns, a footer below them)
    are read where they stand; the rows between them are read column by column.  The
    HHS regulation reader (indexer/pdf.py) finds gutters over the whole page, which is
    right for that PDF; letters and newsletters put full-width headlines over their
    columns, so here a gutter only has to be clear in most rows, not all.
    """
    from indexer.pdf import _group_rows

    if not words:
        return ""
    rows = _group_rows(words)
    gutters = _find_gutters(rows)
    lines: list[tuple[int, float, list[Any]]] = []  # (column or -1, top, words)
    band: list[Any] = []

    def flush() -> None:
        for col, column in enumerate(_split_columns(band, gutters)):
            lines.extend((col, row[0].top, row) for row in _group_rows(column))
        band.clear()

    for row in rows:
        if any(w.x0 < g < w.x1 for w in row for g in gutters):
            flush()
            lines.append((-1, row[0].top, row))
        else:
            band.extend(row)
    flush()
    return _paragraphs(lines)


def _find_gutters(rows: Sequence[Sequence[Any]]) -> list[float]:
    if len(rows) < 3:
        return []
    left = min(w.x0 for row in rows for w in row)
    right = max(w.x1 for row in rows for w in row)
    good: list[float] = []
    x = left + 1.0
    while x < right - 1.0:
        clear = split = 0
        for row in rows:
            if any(w.x0 - 0.5 <= x <= w.x1 + 0.5 for w in row):
                continue
            clear += 1
            if any(w.x1 < x for w in row) and any(w.x0 > x for w in row):
                split += 1
        if clear >= _GUTTER_CLEAR * len(rows) and split >= _GUTTER_SPLIT * len(rows):
            good.append(x)
        x += 0.5
    gutters: list[float] = []
    run: list[float] = []
    for x in [*good, float("inf")]:
        if run and x - run[-1] > 0.6:
            if run[-1] - run[0] >= _GUTTER_MIN_WIDTH - 1.0:
                gutters.append((run[0] + run[-1]) / 2)
            run = []
        run.append(x)
    return gutters


def _split_columns(words: Sequence[Any], gutters: Sequence[float]) -> list[list[Any]]:
    columns: list[list[Any]] = [[] for _ in range(len(gutters) + 1)]
    for w in words:
        columns[sum((w.x0 + w.x1) / 2 > g for g in gutters)].append(w)
    return [c for c in columns if c]


def _paragraphs(lines: Sequence[tuple[int, float, list[Any]]]) -> str:
    """Lines → paragraphs, split where the step down a column exceeds the usual pitch."""
    from indexer.pdf import _join_words

    steps = [b[1] - a[1] for a, b in itertools.pairwise(lines) if a[0] == b[0]]
    steps = [s for s in steps if s > 0]
    limit = median(steps) * _PARAGRAPH_STEP if steps else 0.0
    out: list[str] = []
    previous: tuple[int, float, list[Any]] | None = None
    for line in lines:
        text = _join_words(line[2])
        same_flow = previous is not None and previous[0] == line[0] >= 0
        # A sentence that runs from the foot of one column to the head of the next.
        runs_on = (
            previous is not None
            and previous[0] >= 0
            and line[0] == previous[0] + 1
            and not re.search(r"[.!?:;]$", out[-1] if out else ".")
            and text[:1].islower()
        )
        if runs_on or (
            out and same_flow and previous is not None and line[1] - previous[1] <= limit
        ):
            out[-1] = out[-1] + text if out[-1].endswith(("-", "—")) else f"{out[-1]} {text}"
        else:
            out.append(text)
        previous = line
    return "\n\n".join(out)


# -- Word ------------------------------------------------------------------------------------
def read_docx(name: str, data: bytes) -> Document:
    """A Word document's paragraphs and tables in body order, with the first header's text
    (letterheads say who sends the letter)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        d = docx.Document(io.BytesIO(data))
        blocks = list(_docx_blocks(d))
        header = [p.text for s in d.sections[:1] for p in s.header.paragraphs if p.text.strip()]
        props = d.core_properties
        title = props.title or ""
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise CorruptDocument(f"{name}: not a readable Word document ({exc})") from exc
    except Exception as exc:  # lxml and zip errors deep inside a damaged package
        raise CorruptDocument(
            f"{name}: not a readable Word document ({type(exc).__name__})"
        ) from exc
    meta = {"title": title} if title else {}
    return Document(name, "docx", _tidy("\n\n".join([*header, *blocks])), meta)


def _docx_blocks(d: Any) -> Iterator[str]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in d.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = Paragraph(child, d).text.strip()
            if text:
                yield text
        elif tag == "tbl":
            for row in Table(child, d).rows:
                cells = list(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip()))
                if cells:
                    yield " | ".join(cells)


_READERS = {
    "text": read_text,
    "markdown": read_markdown,
    "html": read_html,
    "email": read_email,
    "pdf": read_pdf,
    "docx": read_docx,
}
