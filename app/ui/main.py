"""The web app's entry (``tpo serve``): sign-in when login is on, and only the pages the
signed-in user's role allows.

Pages the role does not allow are not registered at all, so they have no address to
visit; every page also checks the role again itself (``common.require``) before it draws
anything or acts, so a crafted request finds nothing either.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.access import allowed_pages
from app.ui.common import SIGNED_IN, current_user, services, settings

HERE = Path(__file__).resolve().parent

# Material icons, not emoji: emoji fonts are missing on some staff machines.
PAGES = {
    "ask": st.Page(
        HERE / "ask.py", title="Ask", icon=":material/chat:", url_path="ask", default=True
    ),
    "review": st.Page(
        HERE / "review.py", title="Review", icon=":material/gavel:", url_path="review"
    ),
    "corpus": st.Page(
        HERE / "corpus.py", title="Corpus", icon=":material/menu_book:", url_path="corpus"
    ),
    "evaluate": st.Page(
        HERE / "evaluate.py", title="Evaluate", icon=":material/analytics:", url_path="evaluate"
    ),
    "audit": st.Page(
        HERE / "audit.py", title="Audit", icon=":material/inventory_2:", url_path="audit"
    ),
}


def sidebar_user() -> None:
    user = current_user()
    if user is None or settings().auth == "off":
        return
    st.sidebar.caption(f"Signed in as **{user.name}** ({user.role.label})")
    if st.sidebar.button("Sign out", key="sign-out"):
        if settings().auth == "oidc":
            st.logout()
        st.session_state.pop(SIGNED_IN, None)
        st.session_state.pop("history", None)
        st.rerun()


def main() -> None:
    st.set_page_config(page_title="tpo-check", page_icon="⚖️", layout="centered")
    user = current_user()
    if user is None:
        nav = st.navigation([st.Page(HERE / "login.py", title="Sign in", icon=":material/login:")])
    else:
        nav = st.navigation([PAGES[name] for name in allowed_pages(user)])
        sidebar_user()
        services()  # the models and index load once per server, before the first question
    nav.run()


main()
