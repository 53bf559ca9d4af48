"""The indexer's errors: each says what went wrong, where, and what to do.

The CLI and the web app catch :class:`TpoError` and print its message; anything
else is a bug and is reported as one.
"""

from __future__ import annotations

import errno


class TpoError(Exception):
    """Base of every error a user can act on."""

    hint: str = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint

    def user_message(self) -> str:
        text = str(self)
        return f"{text}\n  → {self.hint}" if self.hint else text


class CitationError(TpoError, ValueError):
    """Text that should be a citation of 45 CFR or 42 U.S.C. and is not."""

    hint = 'Write citations like "45 CFR 164.508(a)(3)" or "45 CFR 164.501 \\"marketing\\" (2)(i)".'


class ManifestError(TpoError):
    """corpus/sources.toml is malformed, has unknown keys, or points nowhere."""


class SourceError(TpoError):
    """A source file is missing, empty, or cannot be parsed."""


class FetchError(TpoError):
    """An official source could not be downloaded."""


class IndexStateError(TpoError):
    """The index is missing, busy, or a version asked for does not exist."""


class UserInputError(TpoError):
    """Input from the user that cannot be used as it is (an empty description, say)."""


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the disk running out of space.

    Python raises ``OSError(ENOSPC)``; SQLite and Chroma's Rust core report it in text.
    """
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(seen).lower()
        if "no space left on device" in text or "database or disk is full" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False
