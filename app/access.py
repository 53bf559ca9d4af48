"""Who may use the web app, and for what: users, roles, password hashes, permissions.

No Streamlit here: the pages (``app/ui/common.py``) and ``tpo users`` (``app/cli_users.py``)
both build on these functions, and the tests call them directly.

Roles are ordered, requester < reviewer < admin; each role may do everything the ones
below it may.  A requester asks questions and reads the corpus; a reviewer also rules on
the review queue, runs evaluations and reads the audit trail (the person who checks
answers must see the record of them); an admin also updates the corpus and exports the
audit trail, the two actions that change what every later answer rests on or that take
the whole record of patient-related questions out of the system.

Password hashes use the standard library's scrypt (RFC 7914) with a random 16-byte salt per
user and a constant-time comparison.  scrypt is memory-hard, so a stolen users file is
costly to attack on GPUs, and being in ``hashlib`` it adds no dependency to keep patched;
argon2id would be the other sound choice but needs a compiled package.  The cost
parameters are stored in every hash, so they can be raised later without breaking old
entries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
import tomllib
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from indexer.errors import TpoError

# scrypt cost: N=2**14, r=8, p=1 uses 16 MB and about 50 ms per check on this machine's
# kind of core (OWASP's floor for scrypt), slow enough against guessing, fast enough
# for a login form.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES, KEY_BYTES = 16, 32
MIN_PASSWORD = 10
MAX_NAME = 200


class Role(IntEnum):
    """Ordered: a higher role may do whatever a lower one may."""

    REQUESTER = 1
    REVIEWER = 2
    ADMIN = 3

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise UsersFileError(
                f"unknown role {text!r}", "Use requester, reviewer or admin."
            ) from None

    @property
    def label(self) -> str:
        return self.name.lower()


class UsersFileError(TpoError):
    """The users file is malformed, or a user operation cannot be done."""


class AccessDenied(TpoError):
    """The signed-in user's role does not allow this page or action."""


@dataclass(frozen=True)
class User:
    """Someone signed in (or the single local user when login is off)."""

    name: str
    role: Role

    def may(self, minimum: Role) -> bool:
        return self.role >= minimum


@dataclass(frozen=True)
class UserRecord:
    """One entry of the users file.  ``password_hash`` is empty for OIDC-only users."""

    name: str
    role: Role
    password_hash: str = ""


# -- what each page and action needs --------------------------------------------------
# The one table both the navigation (which pages are registered) and every page's own
# check read, so the two can never disagree.
PAGES: dict[str, Role] = {
    "ask": Role.REQUESTER,
    "corpus": Role.REQUESTER,
    "evaluate": Role.REVIEWER,
    "review": Role.REVIEWER,
    "audit": Role.REVIEWER,
}
ACTIONS: dict[str, Role] = {
    "ask": Role.REQUESTER,
    "read_corpus": Role.REQUESTER,
    "run_evaluation": Role.REVIEWER,
    "rule": Role.REVIEWER,
    "read_audit": Role.REVIEWER,
    "verify_audit": Role.REVIEWER,
    "export_audit": Role.ADMIN,
    "update_corpus": Role.ADMIN,
}


def check(user: User | None, action: str) -> User:
    """The user, if ``action`` is allowed to them; else :class:`AccessDenied`.

    Called again right before every action, not only when a page is drawn, so a
    session whose user was demoted or removed meanwhile, or a crafted request for a
    page that was never offered, does nothing.
    """
    minimum = ACTIONS[action]
    if user is None:
        raise AccessDenied("you are not signed in", "Sign in first.")
    if not user.may(minimum):
        raise AccessDenied(
            f"{user.name} ({user.role.label}) may not {action.replace('_', ' ')}",
            f"This needs the {minimum.label} role; ask an admin (`tpo users add`).",
        )
    return user


def allowed_pages(user: User | None) -> list[str]:
    if user is None:
        return []
    return [page for page, minimum in PAGES.items() if user.may(minimum)]


# -- password hashes --------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$key``, salt and key base64; a fresh random salt every call."""
    if len(password) < MIN_PASSWORD:
        raise UsersFileError(
            f"the password is shorter than {MIN_PASSWORD} characters",
            "Choose a longer passphrase.",
        )
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=KEY_BYTES
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for any malformed hash."""
    try:
        scheme, n, r, p, salt_b64, key_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, key = base64.b64decode(salt_b64), base64.b64decode(key_b64)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(key),
            maxmem=256 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, key)


# A hash of nothing anyone knows: checked for unknown names, so a login for a name
# that does not exist costs the same time as one for a name that does (no user
# enumeration by timing).
_DUMMY_HASH = (
    f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(b'tpo-check-dummy!')}${_b64(bytes(KEY_BYTES))}"
)


# -- the users file ---------------------------------------------------------------------
def _key(name: str) -> str:
    """Names (and OIDC e-mail addresses) compare without regard to case."""
    return name.strip().casefold()


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or any(ord(ch) < 32 or ch == "\x7f" for ch in name):
        raise UsersFileError(
            f"not a usable user name: {name!r}",
            f"Use 1–{MAX_NAME} printable characters (a login name or an e-mail address).",
        )
    return name


def load_users(path: Path) -> dict[str, UserRecord]:
    """Every user in ``path`` keyed by case-folded name; an absent file means no users."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsersFileError(
            f"{path}: cannot read the users file ({exc})",
            "Fix or remove it; `tpo users add` writes a valid one.",
        ) from exc
    users: dict[str, UserRecord] = {}
    for name, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("role"), str):
            raise UsersFileError(
                f"{path}: the entry for {name!r} has no role",
                'Each user is a table: role = "requester" | "reviewer" | "admin", '
                "password_hash = the output of `tpo users add`.",
            )
        pw = entry.get("password_hash", "")
        if not isinstance(pw, str):
            raise UsersFileError(f"{path}: password_hash of {name!r} is not a string")
        users[_key(name)] = UserRecord(_check_name(name), Role.parse(entry["role"]), pw)
    return users


def _toml_string(text: str) -> str:
    """A TOML basic string.  JSON's escapes are a subset of TOML's for these characters."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 32 or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def save_users(path: Path, users: dict[str, UserRecord]) -> None:
    """Write atomically (temp file, then rename), readable by the owner only."""
    lines = ["# tpo-check users: name → role and scrypt password hash. Edit with `tpo users`.", ""]
    for rec in sorted(users.values(), key=lambda r: _key(r.name)):
        lines += [
            f"[{_toml_string(rec.name)}]",
            f"role = {_toml_string(rec.role.label)}",
            f"password_hash = {_toml_string(rec.password_hash)}",
            "",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    os.replace(tmp, path)


def add_user(path: Path, name: str, role: Role, password: str | None) -> UserRecord:
    """Add or replace ``name``.  ``password=None`` makes an OIDC-only user (no local login)."""
    name = _check_name(name)
    users = load_users(path)
    rec = UserRecord(name, role, hash_password(password) if password is not None else "")
    users[_key(name)] = rec
    save_users(path, users)
    return rec


def remove_user(path: Path, name: str) -> UserRecord:
    users = load_users(path)
    rec = users.pop(_key(name), None)
    if rec is None:
        known = ", ".join(sorted(r.name for r in users.values())) or "none"
        raise UsersFileError(f"no user {name!r}", f"Known users: {known}.")
    save_users(path, users)
    return rec


def authenticate(users: dict[str, UserRecord], name: str, password: str) -> User | None:
    """The user when the password matches; None otherwise (same cost either way)."""
    rec = users.get(_key(name))
    ok = verify_password(password, rec.password_hash if rec and rec.password_hash else _DUMMY_HASH)
    if rec is None or not rec.password_hash or not ok:
        return None
    return User(rec.name, rec.role)


def user_named(users: dict[str, UserRecord], name: str) -> User | None:
    """The user as the file says now (role included), or None if they were removed."""
    rec = users.get(_key(name))
    return User(rec.name, rec.role) if rec else None


def oidc_user(users: dict[str, UserRecord], email: str) -> User:
    """An identity-provider user: their role from the users file by e-mail, else requester.

    The identity provider proves who someone is; what they may do here is this
    deployment's decision, so an unknown address gets the least role.
    """
    rec = users.get(_key(email))
    return User(email.strip(), rec.role if rec else Role.REQUESTER)


# -- exposure ---------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def exposure_warning(host: str, auth: str) -> str | None:
    """A warning when the app would listen beyond this machine with login off."""
    if auth != "off" or is_loopback(host):
        return None
    return (
        f"tpo serve is listening on {host} with login off: anyone who can reach this "
        "address can ask questions, rule on reviews, read the audit trail and update the "
        "corpus. Set TPO_AUTH=local (users from `tpo users add`) or TPO_AUTH=oidc, or "
        "listen on 127.0.0.1."
    )
