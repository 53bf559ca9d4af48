"""What a description must be before anything reads it, and the notices it earns.

Staff paste whatever they have: a whole agreement, a file saved in the wrong
encoding, text with stray NUL bytes, a note in Spanish.  Each case gets a clear
message and loses nothing: what can be read is read, what cannot is refused with
what to do, and what the rules may read badly is said out loud as a notice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from indexer.errors import UserInputError

# A description is a few sentences; a pasted agreement is tens of kilobytes.  Up to this
# size the rules read all of it; beyond it the answer would rest on a document nobody can
# review in one screen, so the user is asked to send it as a document (``--file``).
MAX_CHARS = 200_000
# What an LLM is shown of a long description: its context is small and the rules have
# already read the whole text.
LLM_MAX_CHARS = 4_000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Frequent English function words: a description in English has several of them.
_ENGLISH = frozenset(
    "the an and or of to for in on with by from our we us is are be will wants want "
    "patient patients their they it this that".split()
)


@dataclass(frozen=True)
class Cleaned:
    text: str
    notices: tuple[str, ...]


def decode(data: bytes, name: str = "the input") -> str:
    """Bytes from stdin or a file as text: UTF-8 (with or without a byte-order mark) only.

    Guessing another encoding could silently change a word the rules read, so a file in
    another encoding is refused with the byte that failed and how to fix it.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserInputError(
            f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            "Save it as UTF-8 (most editors: Save as → Encoding → UTF-8) and try again.",
        ) from None


def clean(description: str) -> Cleaned:
    """The description ready for the rules, or a :class:`UserInputError` saying why not."""
    if not description.strip():
        raise UserInputError(
            "the description is empty",
            "Describe the proposed use or disclosure in a sentence or two.",
        )
    if len(description) > MAX_CHARS:
        raise UserInputError(
            f"the description is {len(description):,} characters long; the limit is {MAX_CHARS:,}",
            "Describe the activity in a few sentences, or classify the document itself "
            "with `tpo classify --file PATH`.",
        )
    notices: list[str] = []
    controls = len(_CONTROL.findall(description))
    unreadable = controls + description.count("\ufffd")
    if unreadable > max(8, len(description) // 10):
        raise UserInputError(
            "the description looks like binary data, not text "
            f"({unreadable} of {len(description)} characters are control or replacement "
            "characters)",
            "Paste the text itself; for a PDF, Word file or e-mail use `tpo classify --file PATH`.",
        )
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", description))
    if controls:
        notices.append(f"{controls} control character(s) (such as NUL bytes) were removed.")
    words = [w.lower() for w in _WORD.findall(text)]
    latin = sum(1 for w in words if w.isascii())
    english = sum(1 for w in words if w in _ENGLISH)
    if words and (latin < len(words) / 2 or (len(words) >= 6 and english < len(words) / 12)):
        notices.append(
            "The description does not look like English. The rules read English only, so "
            "they may miss the facts; describe the activity in English for a reliable answer."
        )
    return Cleaned(text, tuple(notices))


def for_llm(text: str) -> tuple[str, str | None]:
    """What an LLM is shown, and a notice when it is shortened."""
    if len(text) <= LLM_MAX_CHARS:
        return text, None
    cut = text[:LLM_MAX_CHARS].rsplit(" ", 1)[0]
    return cut + " …", (
        f"The LLM was shown the first {len(cut):,} of {len(text):,} characters; the rules "
        "read all of it."
    )
