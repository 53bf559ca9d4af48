"""Sign in: a password against the local users file, or the organisation's identity
provider (Streamlit's OIDC, configured in ``.streamlit/secrets.toml``)."""

from __future__ import annotations

import streamlit as st

from app.access import authenticate, load_users
from app.ui.common import SIGNED_IN, settings, shown_errors


def local_form() -> None:
    with st.form("sign-in"):
        name = st.text_input("User name", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in")
    if not submitted:
        return
    with shown_errors():
        user = authenticate(load_users(settings().users_path), name, password)
        if user is None:
            st.error("Unknown user name or wrong password.")
            return
        st.session_state[SIGNED_IN] = user.name
        st.rerun()


def main() -> None:
    st.title("tpo-check")
    st.caption("Sign in to classify uses and disclosures of PHI under the HIPAA Privacy Rule.")
    if settings().auth == "oidc":
        if st.button("Sign in with your organisation account", type="primary"):
            with shown_errors():
                st.login()
        return
    local_form()


main()
