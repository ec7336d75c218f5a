"""The fooling dashboard (Dash).

``create_app()`` builds a fresh app; ``app.server`` (the Flask server of an app built
from the environment's settings on first access) is what ``gunicorn app:server``
serves. Importing this package trains and loads nothing: the work happens on first
access to ``server`` or in ``create_app``.

Each page is a package under :mod:`app.pages`; the factory builds every page's state
once (``State(resources).warm()``), registers its callbacks, and routes the URL's path
to its layout.
"""

from __future__ import annotations

import logging
import threading
from importlib import resources as _res
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import flask
from dash import Input, Output, dcc, html, set_props

from . import ids, links, plotlyjs, security, serving
from .components import message, navbar, not_found
from .pages import load_pages
from .resources import Resources
from .settings import Settings

__all__ = ["ERROR_ID", "create_app", "load_resources", "server"]

log = logging.getLogger(__name__)

BOOTSTRAP_ROUTE = "/_fooling/bootstrap.min.css"
ASSETS = Path(__file__).resolve().parent.parent / "assets"
ERROR_ID = ids.ERROR
ERROR_TEXT = "Something went wrong computing that. Nothing was lost: try another point."


def load_resources(settings: Settings | None = None, *, progress: bool = True) -> Resources:
    """Load (or train once and cache) every model and the analyses every page reads."""
    from fooling.workspace import load_workspace

    settings = settings or Settings.from_env()
    ws = load_workspace(settings.mnist, progress=progress)
    return Resources(ws, grid=settings.grid, settings=settings).warm()


def _bootstrap_css() -> bytes:
    """Bootstrap 5's CSS from the installed ``bootstrap-flask`` package (no CDN)."""
    path = _res.files("flask_bootstrap") / "static" / "bootstrap5" / "css" / "bootstrap.min.css"
    text = path.read_bytes()
    cut = text.rfind(b"/*# sourceMappingURL")
    return text[:cut] if cut > 0 else text


def create_app(resources: Resources | None = None, settings: Settings | None = None) -> dash.Dash:
    """Build the Dash app.

    Parameters
    ----------
    resources : Resources, optional
        Loaded models and analyses; default :func:`load_resources` from ``settings``.
    settings : Settings, optional
        Default :meth:`Settings.from_env`.
    """
    settings = settings or Settings.from_env()
    res = resources or load_resources(settings)
    css = _bootstrap_css()
    bundle = plotlyjs.load(res.analysis.cache_dir)  # None: Dash's full plotly.js

    def on_error(err: Exception):
        log.exception("callback failed", exc_info=err)
        set_props(ERROR_ID, {"children": message(ERROR_TEXT, "danger"), "is_open": True})

    server = flask.Flask(__name__)
    server.config.update(serving.COMPRESS_CONFIG)  # before flask-compress reads it
    app = dash.Dash(
        __name__, server=server, title="fooling: why discriminative models are easily fooled",
        external_stylesheets=[BOOTSTRAP_ROUTE], serve_locally=True, compress=True,
        # defines window.Plotly before dcc.Graph looks for it: the full bundle is never loaded
        external_scripts=[bundle.route] if bundle else [],
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"},
                   {"name": "description", "content":
                    "Interactive, reproducible examples of why discriminative models are easily fooled."}],
        health_endpoint="health", on_error=on_error, update_title=None,
        suppress_callback_exceptions=True,
        assets_folder=str(ASSETS))

    @app.server.route(BOOTSTRAP_ROUTE)
    def bootstrap_css():
        return flask.Response(css, mimetype="text/css")

    if bundle is not None:
        @app.server.route(bundle.route)
        def plotly_bundle():
            return flask.Response(bundle.data, mimetype="text/javascript")

    pages = load_pages()
    states = {path: page.State(res).warm() for path, page in pages.items()}
    shell = html.Div([
        dcc.Location(id=ids.URL, refresh="callback-nav"),
        dcc.Store(id=ids.QUERY), dcc.Store(id=ids.URL_WRITTEN),
        navbar(),
        dbc.Container([
            html.Div([dcc.Clipboard(id=ids.COPY_LINK, title="copy a link to this view", className="copy-link"),
                      html.Span("link to this view", className="small text-muted ms-1")],
                     className="copy-link-box d-flex align-items-center justify-content-end"),
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
        path = pathname if isinstance(pathname, str) else "/"
        if path not in pages:
            return not_found(pathname)
        return pages[path].layout(states[path])

    app.clientside_callback(
        "function(n, open) { return n ? !open : open; }",
        Output(ids.NAVBAR_COLLAPSE, "is_open"), Input(ids.NAVBAR_TOGGLER, "n_clicks"),
        dash.State(ids.NAVBAR_COLLAPSE, "is_open"), prevent_initial_call=True)

    links.register_shell(app)
    for path, page in pages.items():
        page.register(app, states[path])
    security.install(app, settings)
    app.compressor_ = serving.StaticCompressor(res.analysis.cache_dir)
    serving.install(app, app.compressor_)
    app.resources_ = res
    app.states_ = states
    app.plotly_bundle_ = bundle
    return app


_lock = threading.Lock()
_app: dash.Dash | None = None


def __getattr__(name: str):
    """``app.server`` / ``app.dash_app``: built from the environment on first access."""
    global _app
    if name in ("server", "dash_app"):
        with _lock:
            if _app is None:
                settings = Settings.from_env()
                res = load_resources(settings)
                plotlyjs.ensure(res.analysis.cache_dir, timeout=10)  # once; cached after
                _app = create_app(res, settings)
        return _app.server if name == "server" else _app
    raise AttributeError(f"module 'app' has no attribute {name!r}")
