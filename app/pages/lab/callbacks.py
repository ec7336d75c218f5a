"""/lab callbacks: a spec in (form or URL), a stored network or a training ticket out; results
and inversions of the network shown.

* :func:`update_lab_submit` — the Train button or the URL's query (page load, back, forward):
  checks the spec (nothing starts for one it refuses), answers a stored network at once, or
  admits a training (:class:`app.registry.JobRegistry`) and hands the browser a ticket, which
  starts the background job (:mod:`app.pages.lab.work`). After Train it writes the spec into
  the URL.
* :func:`update_lab_results` — an outcome (stored or just trained): maps, loss, accuracy,
  fooling rates; or what became of the job.
* :func:`update_lab_point` — a click on either map, a far preset or "keep pixels in [0, 1]".
* :func:`update_lab_cancel` and :func:`update_lab_stopped` — a cancel, and a job that ended
  without an answer (a killed worker, a hard time limit).
"""

from __future__ import annotations

from dash import ALL, Input, Output, State as DashState, ctx, no_update

from ... import ids
from ...components import link_zoom, relay_click, triggered_id
from ...markup import markup
from .compute import State
from .layout import FORM
from .submit import update_lab_submit
from .view import update_lab_cancel, update_lab_point, update_lab_results, update_lab_stopped
from .work import gate, register_training

__all__ = ["register", "update_lab_cancel", "update_lab_point", "update_lab_results", "update_lab_stopped",
           "update_lab_submit"]

_WRITE_JS = """
function(write) {
    const nu = window.dash_clientside.no_update;
    if (!write || typeof write.search !== 'string' || write.search === window.location.search) { return [nu, nu]; }
    return [write.search, {search: write.search}];
}
"""


def _triggered_value():
    """The value of the input that fired the callback (None when unreadable)."""
    try:
        return ctx.triggered[0]["value"]
    except (IndexError, KeyError, TypeError, AttributeError):
        return None


def _per_preset(classes) -> list:
    """``{digit: class name}`` (or no_update) as the list Dash expects for the ALL output, in the
    order of the request's preset buttons."""
    try:
        specs = ctx.outputs_list[5]
    except (IndexError, KeyError, TypeError, AttributeError):
        specs = []
    digits = [s.get("id", {}).get("index") if isinstance(s, dict) and isinstance(s.get("id"), dict) else None
              for s in specs]
    if not isinstance(classes, dict):
        return [no_update] * len(digits)
    return [classes.get(d, no_update) for d in digits]


FIELDS = ("digits", "hidden", "activation", "solver", "lr", "alpha", "epochs", "seed")
"""The spec's fields, in the order of :data:`app.pages.lab.layout.FORM`."""


def register(app, state: State) -> None:
    progress = (Output(ids.LAB_PROGRESS, "children", allow_duplicate=True),
                Output(ids.LAB_PROGRESS_BAR, "value", allow_duplicate=True))

    @app.callback(
        Output(ids.LAB_MESSAGE, "children"), Output(ids.LAB_TICKET, "data"), Output(ids.LAB_OUTCOME, "data"),
        Output(ids.LAB_WRITE, "data"), Output(ids.LAB_PROGRESS, "children"), Output(ids.LAB_PROGRESS_BAR, "value"),
        Output(ids.LAB_SESSION, "data"), *[Output(f, "value") for f in FORM],
        Input(ids.QUERY, "data"), Input(ids.LAB_TRAIN, "n_clicks"),
        *[DashState(f, "value") for f in FORM], DashState(ids.LAB_SESSION, "data"))
    def update_lab_spec(query, _train, *rest):
        *values, session = rest
        trigger = "train" if triggered_id() == ids.LAB_TRAIN else "query"
        return update_lab_submit(state, trigger, query=query, form=dict(zip(FIELDS, values)), session=session)

    register_training(app, state.jobs.manager)
    key = next(k for k, v in app.callback_map.items() if v.get("background") and ids.LAB_OUTCOME in k)
    app.callback_guards = {**getattr(app, "callback_guards", {}), key: gate(state.jobs)}

    @app.callback(
        Output(ids.LAB_MAP, "figure"), Output(ids.LAB_RBF_MAP, "figure"), Output(ids.LAB_LOSS, "figure"),
        Output(ids.LAB_RESULT, "children"), Output(ids.LAB_RATES, "children"),
        Output({"type": ids.LAB_PRESET, "index": ALL}, "className"),
        Output(ids.LAB_KEY, "children"), Output(ids.LAB_IMAGE, "digit"), Output(ids.LAB_INSPECT, "children"),
        Output(ids.LAB_POINT, "data"), *progress, Output(ids.LAB_PROGRESS_BAR, "label", allow_duplicate=True),
        Input(ids.LAB_OUTCOME, "data"), prevent_initial_call=True)
    def update_lab_network(outcome):
        out = list(update_lab_results(state, outcome))
        out[5] = _per_preset(out[5])
        return out

    @app.callback(
        Output(ids.LAB_IMAGE, "digit", allow_duplicate=True), Output(ids.LAB_INSPECT, "children", allow_duplicate=True),
        Output(ids.LAB_POINT, "data", allow_duplicate=True),
        Input(ids.LAB_MAP, "clickData"), Input({"type": ids.LAB_PRESET, "index": ALL}, "n_clicks"),
        Input(ids.LAB_VALID, "value"), DashState(ids.LAB_OUTCOME, "data"), DashState(ids.LAB_POINT, "data"),
        prevent_initial_call=True)
    def update_lab_inspect(click, _presets, valid, outcome, point):
        tid = triggered_id()
        if isinstance(tid, dict) and tid.get("type") == ids.LAB_PRESET:
            index = tid.get("index")  # the digit
            if not _triggered_value():  # a button shown for a new network, not pressed
                return no_update, no_update, no_update
            out = update_lab_point(state, "preset", outcome=outcome, preset=index, valid=valid, point=point)
        else:
            trigger = {ids.LAB_MAP: "click", ids.LAB_VALID: "valid"}.get(tid, "none") if isinstance(tid, str) else "none"
            out = update_lab_point(state, trigger, outcome=outcome, click=click, valid=valid, point=point)
        image, children, pinned = out
        # the point's result as one static-markup block (app.markup), as on /mnist
        return image, markup(children), pinned

    @app.callback(*progress, Input(ids.LAB_CANCEL, "n_clicks"), DashState(ids.LAB_TICKET, "data"),
                  DashState(ids.LAB_SESSION, "data"), prevent_initial_call=True)
    def update_lab_cancelled(n, ticket, session):
        return update_lab_cancel(state, n, ticket, session)

    @app.callback(*progress, Input(ids.LAB_RUNNING, "data"), DashState(ids.LAB_TICKET, "data"),
                  prevent_initial_call=True)
    def update_lab_ended(running, ticket):
        return update_lab_stopped(state, running, ticket)

    app.clientside_callback(_WRITE_JS, Output(ids.URL, "search", allow_duplicate=True),
                            Output(ids.URL_WRITTEN, "data", allow_duplicate=True), Input(ids.LAB_WRITE, "data"),
                            prevent_initial_call=True)
    relay_click(app, ids.LAB_RBF_MAP, ids.LAB_MAP)  # one inversion callback for both maps
    link_zoom(app, ids.LAB_MAP, ids.LAB_RBF_MAP)

