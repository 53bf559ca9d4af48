"""Users, roles, password hashes and the exposure warning (no Streamlit), and `tpo users`."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from app import cli_users
from app.access import (
    AccessDenied,
    Role,
    User,
    UsersFileError,
    add_user,
    allowed_pages,
    authenticate,
    check,
    exposure_warning,
    hash_password,
    load_users,
    oidc_user,
    remove_user,
    user_named,
    verify_password,
)

PASSWORD = "correct horse battery"


def test_a_hash_verifies_its_password_only_and_is_salted() -> None:
    h1, h2 = hash_password(PASSWORD), hash_password(PASSWORD)
    assert h1 != h2  # a fresh salt each time: equal passwords do not give equal hashes
    assert h1.startswith("scrypt$16384$8$1$")
    assert PASSWORD not in h1
    assert verify_password(PASSWORD, h1) and verify_password(PASSWORD, h2)
    assert not verify_password(PASSWORD + "!", h1)
    assert not verify_password(PASSWORD, "")
    assert not verify_password(PASSWORD, "bcrypt$x$y")
    assert not verify_password(PASSWORD, "scrypt$abc$8$1$AAAA$AAAA")


def test_short_passwords_are_refused() -> None:
    with pytest.raises(UsersFileError, match="shorter"):
        hash_password("short")


def test_roles_are_ordered_and_checked_per_action() -> None:
    requester, reviewer, admin = (User(n, r) for n, r in zip("abc", Role, strict=True))
    assert allowed_pages(requester) == ["ask", "corpus"]
    assert allowed_pages(reviewer) == ["ask", "corpus", "evaluate", "review", "audit"]
    assert allowed_pages(admin) == allowed_pages(reviewer)
    assert allowed_pages(None) == []
    assert check(reviewer, "rule") is reviewer
    with pytest.raises(AccessDenied, match="may not rule"):
        check(requester, "rule")
    with pytest.raises(AccessDenied, match="update corpus"):
        check(reviewer, "update_corpus")
    with pytest.raises(AccessDenied, match="not signed in"):
        check(None, "ask")
    assert check(admin, "update_corpus") is admin


def test_users_file_round_trip_and_permissions(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    add_user(path, "Alice", Role.ADMIN, PASSWORD)
    add_user(path, 'o"dd \\ name', Role.REVIEWER, PASSWORD)
    add_user(path, "carol@example.org", Role.REVIEWER, None)  # OIDC-only
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    users = load_users(path)
    assert {r.name for r in users.values()} == {"Alice", 'o"dd \\ name', "carol@example.org"}
    assert authenticate(users, "alice", PASSWORD) == User("Alice", Role.ADMIN)  # any case
    assert authenticate(users, 'o"dd \\ name', PASSWORD) == User('o"dd \\ name', Role.REVIEWER)
    assert authenticate(users, "Alice", "wrong password!") is None
    assert authenticate(users, "nobody", PASSWORD) is None
    # An OIDC-only user has no password to sign in with locally.
    assert authenticate(users, "carol@example.org", "") is None
    add_user(path, "alice", Role.REQUESTER, PASSWORD)  # replaces, does not duplicate
    assert user_named(load_users(path), "ALICE") == User("alice", Role.REQUESTER)
    remove_user(path, "Alice")
    assert user_named(load_users(path), "alice") is None
    with pytest.raises(UsersFileError, match="no user"):
        remove_user(path, "alice")


def test_unknown_names_cost_as_much_as_wrong_passwords(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    add_user(path, "alice", Role.ADMIN, PASSWORD)
    users = load_users(path)

    def timed(name: str) -> float:
        start = time.perf_counter()
        for _ in range(3):
            authenticate(users, name, "wrong password!")
        return time.perf_counter() - start

    known, unknown = timed("alice"), timed("nobody")
    # Both run scrypt; without the dummy hash the unknown name would take microseconds.
    assert unknown > known / 3


def test_a_malformed_users_file_is_a_message(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    path.write_text('[bob]\nrole = "superuser"\n', encoding="utf-8")
    with pytest.raises(UsersFileError, match="unknown role"):
        load_users(path)
    path.write_text("not toml at all [[[", encoding="utf-8")
    with pytest.raises(UsersFileError, match="cannot read"):
        load_users(path)
    path.write_text('bob = "admin"\n', encoding="utf-8")
    with pytest.raises(UsersFileError, match="no role"):
        load_users(path)
    assert load_users(tmp_path / "absent.toml") == {}


def test_oidc_users_take_their_role_from_the_file_else_requester(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    add_user(path, "Rev@Example.org", Role.REVIEWER, None)
    users = load_users(path)
    assert oidc_user(users, "rev@example.org").role is Role.REVIEWER
    assert oidc_user(users, "stranger@example.org").role is Role.REQUESTER


@pytest.mark.parametrize(
    ("host", "auth", "warns"),
    [
        ("127.0.0.1", "off", False),
        ("127.0.1.1", "off", False),
        ("localhost", "off", False),
        ("::1", "off", False),
        ("[::1]", "off", False),
        ("0.0.0.0", "off", True),
        ("::", "off", True),
        ("192.168.1.20", "off", True),
        ("tpo.example.org", "off", True),
        ("0.0.0.0", "local", False),
        ("0.0.0.0", "oidc", False),
    ],
)
def test_exposure_warning(host: str, auth: str, warns: bool) -> None:
    warning = exposure_warning(host, auth)
    assert (warning is not None) is warns
    if warning:
        assert host in warning and "TPO_AUTH" in warning


@pytest.fixture
def users_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("TPO_DATA_DIR", str(tmp_path))
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """tpo"""

    cli_users.register(app)
    return app


def test_tpo_users_add_list_remove(users_cli: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(
        users_cli,
        ["users", "add", "rita", "--role", "reviewer", "--password-stdin", "--json"],
        input=PASSWORD + "\n",
    )
    assert r.exit_code == 0, r.output
    assert '"role": "reviewer"' in r.stdout
    users = load_users(tmp_path / "users.toml")
    assert authenticate(users, "rita", PASSWORD) == User("rita", Role.REVIEWER)

    r = runner.invoke(
        users_cli, ["users", "add", "ann", "--role", "admin"], input=f"{PASSWORD}\n" * 2
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(users_cli, ["users", "list", "--json"])
    assert r.exit_code == 0
    assert "ann" in r.stdout and "rita" in r.stdout and "scrypt" not in r.stdout

    r = runner.invoke(users_cli, ["users", "add", "x", "--role", "boss", "--password-stdin"])
    assert r.exit_code == 2 and "unknown role" in r.output
    r = runner.invoke(users_cli, ["users", "add", "y", "--password-stdin"], input="short\n")
    assert r.exit_code == 2 and "shorter" in r.output
    r = runner.invoke(users_cli, ["users", "remove", "rita"])
    assert r.exit_code == 0
    r = runner.invoke(users_cli, ["users", "remove", "rita"])
    assert r.exit_code == 2 and "no user" in r.output
