"""What every page shares: the settings, the services, the signed-in user, the role gate,
the answer badge and the way errors reach the user.

Settings and services are built once per server process (``st.cache_resource``): the
index, BM25 and embedder load at start, not on the first question.  Tests hand in
their own (fake) services with :func:`use`, so nothing is patched by name.

The user is worked out again on every run of every page from the users file, never
kept as a role in the session: a user removed or demoted meanwhile loses access on
their next click, and a session state crafted to say "admin" says nothing.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import streamlit as st

from app.access import ACTIONS, AccessDenied, Role, User, check, load_users, oidc_user, user_named
from app.services import Services
from app.settings import Settings
from indexer.errors import TpoError

if TYPE_CHECKING:
    from app.audit import AuditLog

log = logging.getLogger("tpo.ui")

# Session key holding the name of the user who signed in with a password.  No widget
# uses it, so a browser cannot set it; only the login form does, after the check.
SIGNED_IN = "_tpo_signed_in"


@dataclass
class _Injected:
    settings: Settings | None = None
    services: Services | None = None


_injected = _Injected()


def use(services: Services | None) -> None:
    """Serve these services (and their settings) instead of the real ones; None resets.

    For tests: a fake embedder and an in-memory Chroma, handed in, not patched in.
    """
    _injected.services = services
    _injected.settings = services.settings if services else None


@st.cache_resource(show_spinner=False)
def _real_settings() -> Settings:
    return Settings()


@st.cache_resource(show_spinner="Loading the index and models …")
def _real_services() -> Services:
    svc = Services(_real_settings())
    with contextlib.suppress(TpoError):  # no index yet: the pages say so when they need it
        # Warm now, once per server: the index, BM25, the embedder and the precedents load
        # here, not inside somebody's first question.
        svc.searcher.version()
        svc.precedents.sync()
        svc.embedder.embed_query("warm")
    return svc


def settings() -> Settings:
    return _injected.settings or _real_settings()


def services() -> Services:
    return _injected.services or _real_services()


def audit() -> AuditLog:
    """The audit trail (``Settings.audit_db_url``), opened once with the services."""
    return services().audit


# -- who is using the app ----------------------------------------------------------------
def current_user() -> User | None:
    """The signed-in user with their role as the users file says now; None if nobody."""
    s = settings()
    if s.auth == "off":
        # One local user on 127.0.0.1 (``tpo serve`` warns when it listens wider).
        return User(s.requester, Role.ADMIN)
    users = load_users(s.users_path)
    if s.auth == "local":
        name = st.session_state.get(SIGNED_IN)
        return user_named(users, name) if isinstance(name, str) else None
    if st.user.is_logged_in:
        email = st.user.get("email")
        if isinstance(email, str) and email:
            return oidc_user(users, email)
    return None


def require(action: str) -> User:
    """The user if ``action`` is allowed now; else the refusal is shown and the page stops.

    Pages call it at their top and again right before each action they take.
    """
    try:
        return check(current_user(), action)
    except AccessDenied as exc:
        refuse(exc)


def can(action: str) -> bool:
    """Whether to offer ``action`` at all (the action itself still calls :func:`require`)."""
    user = current_user()
    return user is not None and user.may(ACTIONS[action])


def refuse(exc: TpoError) -> NoReturn:
    st.error(exc.user_message(), icon=":material/block:")
    st.stop()


# -- errors ------------------------------------------------------------------------------
@dataclass
class Outcome:
    failed: bool = False


@contextmanager
def shown_errors() -> Iterator[Outcome]:
    """Errors a user can fix become a message; anything else a short apology, logged.

    The log gets the exception type and stack, never its message: messages can carry
    the text a user typed, and that may hold patient details.
    """
    outcome = Outcome()
    try:
        yield outcome
    except TpoError as exc:
        outcome.failed = True
        st.error(exc.user_message())
    except Exception as exc:
        outcome.failed = True
        log.error(
            "internal error %s\n%s",
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        st.error(
            f"Something went wrong ({type(exc).__name__}). It was logged for the "
            "maintainers; please try again."
        )


# -- the answer badge --------------------------------------------------------------------
STATUS_NOTES = {
    "confirmed": "the rules decided, and no weighty opinion disagrees",
    "needs review": "the opinions disagree: a privacy officer should review",
    "insufficient facts": "a deciding fact is missing: see the questions",
}


def auth_label(required: bool) -> str:
    return "authorization required" if required else "no authorization needed"


def badge(det: dict[str, Any]) -> None:
    """Category and authorization as one coloured line: red when authorization is needed."""
    category = det["category"].replace("_", " ")
    if det["authorization_required"]:
        st.error(f"**{category}** — {auth_label(True)}", icon=":material/lock:")
    else:
        st.success(f"**{category}** — {auth_label(False)}", icon=":material/check_circle:")
    status = det["status"].replace("_", " ")
    st.caption(f"Status: **{status}** — {STATUS_NOTES.get(status, '')}")
    rules = det.get("rules") or {}
    if det["authorization_required"] and rules.get("authorization_required") is False:
        # The cross-check's "when in doubt, authorization wins": say so, or the badge reads
        # as if the category itself needed an authorization.
        st.caption(
            "Authorization is shown as required because another opinion with weight says so "
            f"(the rules alone: {str(rules.get('category', '')).replace('_', ' ')}, no "
            "authorization). When in doubt, authorization wins until a reviewer decides."
        )
