"""`tpo users`: the local users file of the web app (add, list, remove).

Passwords are read from a hidden prompt (typed twice) or, for scripts, from standard
input with ``--password-stdin``; never from an argument, which would land in the
shell history and the process list.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from app.access import Role, add_user, load_users, remove_user
from app.cli_common import JsonOpt, emit, out, user_errors
from app.settings import Settings
from indexer.errors import UserInputError

users_app = typer.Typer(
    help="Web app users and roles (used when TPO_AUTH=local or oidc).", no_args_is_help=True
)

RoleOpt = Annotated[
    str, typer.Option("--role", help="requester | reviewer | admin", show_default=True)
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        text = sys.stdin.readline().rstrip("\r\n")
        if not text:
            raise UserInputError(
                "no password on standard input", "Pipe the password in: `… --password-stdin`."
            )
        return text
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name, or the e-mail address for OIDC.")],
    role: RoleOpt = "requester",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    no_password: Annotated[
        bool,
        typer.Option(
            "--no-password", help="An OIDC user: a role only, no local login (TPO_AUTH=oidc)."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a user (or change an existing user's role and password)."""
    with user_errors():
        settings = Settings()
        parsed = Role.parse(role)
        password = None if no_password else _password(password_stdin)
        rec = add_user(settings.users_path, name, parsed, password)
        data = {"name": rec.name, "role": rec.role.label, "local_login": bool(rec.password_hash)}
        emit(
            data,
            as_json,
            lambda: out.print(
                f"{rec.name}: {rec.role.label} → {settings.users_path}", highlight=False
            ),
        )


@users_app.command("list")
def users_list(as_json: JsonOpt = False) -> None:
    """Every user and role (never the password hashes)."""
    with user_errors():
        settings = Settings()
        users = sorted(load_users(settings.users_path).values(), key=lambda r: r.name.casefold())
        data = {
            "users_file": str(settings.users_path),
            "auth": settings.auth,
            "users": [
                {"name": r.name, "role": r.role.label, "local_login": bool(r.password_hash)}
                for r in users
            ],
        }

        def render() -> None:
            if not users:
                out.print(f"no users in {settings.users_path}; add one with `tpo users add`")
                return
            table = Table("name", "role", "local login")
            for r in users:
                table.add_row(r.name, r.role.label, "yes" if r.password_hash else "no (OIDC)")
            out.print(table)
            if settings.auth == "off":
                out.print("login is off (TPO_AUTH=off): these users apply when it is on")

        emit(data, as_json, render)


@users_app.command("remove")
def users_remove(name: str, as_json: JsonOpt = False) -> None:
    """Remove a user; their open sessions lose access on their next action."""
    with user_errors():
        settings = Settings()
        rec = remove_user(settings.users_path, name)
        emit(
            {"removed": rec.name},
            as_json,
            lambda: out.print(f"removed {rec.name}", highlight=False),
        )


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
