"""The audit trail's tests again, against a real PostgreSQL server this module starts.

The server is a throw-away cluster (``initdb`` into a temporary folder, ``pg_ctl`` on
127.0.0.1 and a free port, trust authentication for a local test role) and is stopped at
the end.  PostgreSQL refuses to run as root, so as root the server runs as the ``postgres``
system user the Debian package creates.  When no server binaries are installed the tests
are skipped with the reason; ``.ci/run`` installs them (``apt-get install -y postgresql``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.test_audit import (  # the same tests, collected here with the fixture below
    test_a_deleted_middle_record_is_named,
    test_a_forged_record_is_named,
    test_a_record_keeps_what_the_issue_asks_for,
    test_a_record_slipped_into_the_middle_is_named,
    test_an_edit_inside_the_stored_determination_is_named,
    test_an_edited_and_rehashed_record_is_named_by_the_next_link,
    test_an_edited_record_is_named,
    test_csv_export_round_trips_with_filters,
    test_filters_select_records,
    test_json_export_round_trips_and_verifies_without_the_database,
    test_records_chain_and_verify_ok,
    test_records_cut_off_the_end_are_named,
    test_review_queue_and_rulings_become_scenarios,
    test_two_processes_appending_50_each_keep_one_chain,
    test_two_swapped_records_are_named_reordered,
    test_two_threads_appending_do_not_fork_the_chain,
    test_verify_of_an_empty_trail_is_ok,
)

pytestmark = pytest.mark.slow

__all__ = [
    "test_a_deleted_middle_record_is_named",
    "test_a_forged_record_is_named",
    "test_a_record_keeps_what_the_issue_asks_for",
    "test_a_record_slipped_into_the_middle_is_named",
    "test_an_edit_inside_the_stored_determination_is_named",
    "test_an_edited_and_rehashed_record_is_named_by_the_next_link",
    "test_an_edited_record_is_named",
    "test_csv_export_round_trips_with_filters",
    "test_filters_select_records",
    "test_json_export_round_trips_and_verifies_without_the_database",
    "test_records_chain_and_verify_ok",
    "test_records_cut_off_the_end_are_named",
    "test_review_queue_and_rulings_become_scenarios",
    "test_two_processes_appending_50_each_keep_one_chain",
    "test_two_swapped_records_are_named_reordered",
    "test_two_threads_appending_do_not_fork_the_chain",
    "test_verify_of_an_empty_trail_is_ok",
]


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_base() -> Iterator[str]:
    """A real PostgreSQL server on loopback for this module; yields its base URL."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    prefix: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        prefix = ["runuser", "-u", "postgres", "--"]
    # Under /tmp, not pytest's tmp_path: that one is private to root and the server's user
    # must reach its own folder.
    base = Path(tempfile.mkdtemp(prefix="tpo-pg-"))
    data, log = base / "data", base / "server.log"
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    try:
        run(
            initdb,
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "tpo",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        run(
            pg_ctl,
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off",
            "start",
        )
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode(errors="replace")
        if log.exists():
            detail += log.read_text(errors="replace")
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {detail}") from exc
    url = f"postgresql+psycopg://tpo@127.0.0.1:{port}"
    try:
        yield url
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def audit_url(postgres_base: str) -> Iterator[str]:
    """A fresh database per test on the module's server."""
    name = f"audit_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{postgres_base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield f"{postgres_base}/{name}"
    finally:
        deadline = time.monotonic() + 10
        with admin.connect() as conn:
            while True:
                try:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        admin.dispose()


def test_the_server_really_is_postgresql(audit_url: str) -> None:
    from app.audit import AuditLog

    log = AuditLog(audit_url)
    assert log.engine.dialect.name == "postgresql"
    with log.engine.connect() as conn:
        assert "PostgreSQL" in conn.execute(text("SELECT version()")).scalar_one()
