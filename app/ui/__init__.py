"""The Streamlit web chat: thin pages over app.pipeline, no business logic."""
