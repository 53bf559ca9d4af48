"""tpo-check: classifier, faces (CLI and web chat), and the wiring of services."""
