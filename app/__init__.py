"""The fooling dashboard (Dash).

``create_app()`` builds a fresh app; ``app.server`` (the Flask server of an app built
from the environment's settings on first access) is what ``gunicorn app:server``
serves. Importing this package trains and loads nothing: the work happens on first
access to ``server`` or in ``create_app``.
"""

from __future__ import annotations

import logging
import threading
from importlib import resources as _res
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, dcc, html, set_props

from . import ids, security
from .components import PAGES, message, navbar
from .resources import Resources
from .settings import Settings

__all__ = ["create_app", "load_resources", "server"]

log = logging.getLogger(__name__)

BOOTSTRAP_ROUTE = "/_fooling/bootstrap.min.css"
ASSETS = Path(__file__).resolve().parent.parent / "assets"
ERROR_ID = "app-error"


def load_resources(settings: Settings | None = None, *, progress: bool = True) -> Resources:
    """Load (or train once and cache) every model and precompute every grid."""
    from fooling.workspace import load_workspace

    settings = settings or Settings.from_env()
    from .pages import compare

    ws = load_workspace(settings.mnist, progress=progress)
    res = Resources(ws, grid=settings.grid).warm()
    compare.warm(res)  # fooling rates and curves: seconds, so once before serving
    return res


def _bootstrap_css() -> bytes:
    """Bootstrap 5's CSS from the installed ``bootstrap-flask`` package (no CDN)."""
    path = _res.files("flask_bootstrap") / "static" / "bootstrap5" / "css" / "bootstrap.min.css"
    text = path.read_bytes()
    cut = text.rfind(b"/*# sourceMappingURL")
    return text[:cut] if cut > 0 else text


def _pages():
    from .pages import compare, iris, mnist, neurons, overview, svm

    return {"/": overview, "/iris": iris, "/svm": svm, "/mnist": mnist, "/neurons": neurons,
            "/compare": compare}


def create_app(resources: Resources | None = None, settings: Settings | None = None) -> dash.Dash:
    """Build the Dash app.

    Parameters
    ----------
    resources : Resources, optional
        Loaded models and grids; default :func:`load_resources` from ``settings``.
    settings : Settings, optional
        Default :meth:`Settings.from_env`.
    """
    settings = settings or Settings.from_env()
    res = resources or load_resources(settings)
    css = _bootstrap_css()

    def on_error(err: Exception):
        log.exception("callback failed", exc_info=err)
        set_props(ERROR_ID, {"children": message(
            "Something went wrong computing that. Nothing was lost: try another point.",
            "danger"), "is_open": True})

    app = dash.Dash(
        __name__, title="fooling: why discriminative models are easily fooled",
        external_stylesheets=[BOOTSTRAP_ROUTE], serve_locally=True, compress=False,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"},
                   {"name": "description", "content":
                    "Interactive, reproducible examples of why discriminative models are easily fooled."}],
        health_endpoint="health", on_error=on_error, update_title=None,
        suppress_callback_exceptions=True,
        assets_folder=str(ASSETS))

    @app.server.route(BOOTSTRAP_ROUTE)
    def bootstrap_css():
        from flask import Response

        return Response(css, mimetype="text/css", headers={"Cache-Control": "public, max-age=86400"})

    pages = _pages()
    shell = html.Div([
        dcc.Location(id=ids.URL, refresh="callback-nav"),
        navbar(),
        dbc.Container([
            dbc.Collapse(id=ERROR_ID, is_open=False),
            html.Div(id=ids.PAGE),
        ], fluid="lg", className="pb-5"),
    ])
    # pages arrive through update_page, so their ids are not in the initial layout;
    # tests/app/test_layout.py checks every callback id exists in the shell or a page
    # (a validation_layout would carry every page's figures in each page load)
    app.layout = shell

    @app.callback(Output(ids.PAGE, "children"), Input(ids.URL, "pathname"))
    def update_page(pathname):
        page = pages.get(pathname if isinstance(pathname, str) else "/")
        if page is None:
            return html.Div([html.H1("Page not found", className="h4"),
                             html.P(["Try one of: "] + [dcc.Link(title, href=path, className="me-3")
                                                        for path, title, _ in PAGES])])
        return page.layout(res)

    app.clientside_callback(
        "function(n, open) { return n ? !open : open; }",
        Output("navbar-collapse", "is_open"), Input("navbar-toggler", "n_clicks"),
        dash.State("navbar-collapse", "is_open"), prevent_initial_call=True)

    for page in pages.values():
        page.register(app, res)
    security.install(app, settings)
    app.resources_ = res
    return app


_lock = threading.Lock()
_app: dash.Dash | None = None


def __getattr__(name: str):
    """``app.server`` / ``app.dash_app``: built from the environment on first access."""
    global _app
    if name in ("server", "dash_app"):
        with _lock:
            if _app is None:
                _app = create_app()
        return _app.server if name == "server" else _app
    raise AttributeError(f"module 'app' has no attribute {name!r}")
