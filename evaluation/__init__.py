"""Batch evaluation against labeled scenarios (see issue 5)."""
