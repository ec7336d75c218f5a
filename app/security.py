"""Hardening of the Flask server behind the Dash app (being written)."""


def install(dash_app, settings) -> None:
    """Attach request limits, error handlers and security headers to ``dash_app``."""
    return None
