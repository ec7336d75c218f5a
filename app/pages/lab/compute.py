"""Per-process state of /lab: the job queue, the data, and a view of every network shown.

A :class:`LabView` is one trained network read from the artifact store (its bundle: the
network, the analysis of its hidden plane, the fooling rates), with its maps and loss
curve built once; the last :data:`VIEWS` of them are kept. Nothing here trains: training
is a job (:mod:`app.pages.lab.work`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from fooling import datasets, store
from fooling.analysis import PlaneAnalysis
from fooling.inversion import Inverter, InversionError
from fooling.lab import LabSpec, from_query
from fooling.lazy import cached
from fooling.reachable import contains, nearest_reachable, support_corner
from fooling.training import from_bytes, read_bundle
from fooling.workspace import MnistModel, split_for

from ...backends import KEY
from ...figures import CLASS_COLORS, make_hidden_map_figure, make_loss_figure
from ...images import digit_data
from ...jobs import Jobs

__all__ = ["BLANK_TITLE", "EXACT", "INVERT_SECONDS", "LabModel", "LabView", "State", "VIEWS"]

VIEWS = 8
"""Networks whose views a process keeps."""
INVERT_SECONDS = 1.0
"""ReLU networks: the longest a click's exact inversion may search activation patterns."""
EXACT = 1e-6
BLANK_TITLE = "inverted image"


class LabModel(MnistModel):
    """A lab network with its split; its ReLU inversion search is capped at :data:`INVERT_SECONDS`."""

    @cached
    def inverter(self) -> Inverter:
        return Inverter(time_limit=INVERT_SECONDS).fit(self.net, self.split.X_train)


class LabView:
    """One stored network, ready to show and to invert.

    Parameters
    ----------
    state : State
    key : str
    data : bytes
        Its bundle (:func:`fooling.training.to_bytes`).

    Raises
    ------
    ValueError
        The bytes are not a bundle of a valid spec.
    """

    def __init__(self, state: "State", key: str, data: bytes):
        arrays, meta = from_bytes(data)
        spec, problems = from_query(meta.get("spec"))
        if problems or meta.get("key") != key:
            raise ValueError("the stored network does not match its key")
        trained, plane, plane_meta = read_bundle(arrays, meta, spec)
        self.key, self.spec, self.meta = key, spec, meta
        self.model = LabModel(trained, split_for(state.digits, spec.digits, state.jobs.cache_dir), key)
        self.analysis = PlaneAnalysis(self.model, resolution=int(meta["resolution"]),
                                      cache_dir=state.jobs.artifacts.folder)
        if not self.analysis.path.exists():
            store.save(self.analysis.path, plane, plane_meta)
        self.analysis.warm()
        self.labels = tuple(str(c) for c in trained.net.classes)
        self.colors = [CLASS_COLORS[int(c) % len(CLASS_COLORS)] for c in trained.net.classes]

    @property
    def trained(self):
        return self.model.trained

    @property
    def rates(self) -> dict:
        """``{"linear": summary, "rbf": summary}`` (:func:`fooling.metrics.fooling_summary`)."""
        return self.meta["rates"]

    @property
    def presets(self) -> list[dict]:
        return self.analysis.far_points

    def _map(self, grid, half, head: str):
        a, m = self.analysis, self.model
        labels = np.searchsorted(m.net.classes, m.split.y_test)
        layout = dict(showlegend=False, margin=dict(l=48, r=8, t=44, b=42),
                      title=dict(x=0, xref="paper", y=1, yref="paper", yanchor="bottom", pad=dict(b=6),
                                 font=dict(size=14)))
        reach = "valid images reach" + ("" if a.exact else " (estimated)")
        return make_hidden_map_figure(
            grid, self.labels, reachable=a.polygon, reachable_name=reach, typical=a.typical,
            typical_name="typical (density check)", points=m.test_hidden, labels=labels, half=half,
            colors=self.colors, title=f"{head} head", axis_titles=("hidden unit 1", "hidden unit 2"),
            uirevision=f"lab-{head}-{self.key}", layout=layout)

    @cached
    def base_map(self):
        """The network's own (linear) head over its hidden plane (markers are drawn in the browser)."""
        return self._map(self.analysis.grid, self.analysis.half, "Linear")

    @cached
    def rbf_map(self):
        """An RBF head on the same encodings, same bounds and outlines."""
        return self._map(self.analysis.rbf_grid, self.analysis.rbf_half, "RBF")

    @cached
    def loss_figure(self):
        return make_loss_figure({"training loss": self.trained.loss_curve}, title="Training loss per epoch",
                                uirevision=f"lab-loss-{self.key}",
                                layout=dict(showlegend=False, yaxis=dict(dtick="D2", tickformat=".2g")))

    def invert(self, point: tuple[float, float], valid: bool):
        """(inversion shown for ``point``, the nearest reachable point used instead, or None).

        Identity nets with ``valid``: a point outside the polygon valid images reach is
        replaced by its nearest point of the polygon. Other nets: a point no input (no
        valid image) reaches is replaced by :meth:`fooling.inversion.Inverter.nearest`'s
        point (a ReLU plane is the closed positive quadrant; tanh's the open square).

        Raises
        ------
        InversionError
            Not even a nearest point was found.
        """
        inv, a = self.model.inverter, self.analysis
        h = np.asarray(point, dtype=float)
        if inv.affine_:
            if valid and not contains(a.polygon, h):
                near = nearest_reachable(a.polygon, h)
                ref = support_corner(inv.A_, h - near, *inv.pixel_range)
                return inv.invert(near, valid=True, ref=ref), (float(near[0]), float(near[1]))
            return inv.invert(h, valid=valid), None
        try:
            r = inv.invert(h, valid=valid)
            if r.residual <= max(EXACT, 1e-9 * float(np.abs(h).max())) or not valid:
                return r, None
        except InversionError:
            pass
        near, r = inv.nearest(h, valid=valid)
        return r, (float(near[0]), float(near[1]))


class State:
    """Everything /lab needs in a web process: jobs, data, views (built once; nothing trained).

    Parameters
    ----------
    res : app.resources.Resources
    jobs : app.jobs.Jobs, optional
        Default: from the environment (web workers and job workers read the same one).
    """

    def __init__(self, res, jobs: Jobs | None = None):
        self.res = res
        self.jobs = jobs or Jobs()
        self._views: OrderedDict[str, LabView] = OrderedDict()
        self._lock = threading.RLock()

    @property
    def grid(self) -> int:
        return self.res.grid

    @cached
    def digits(self) -> datasets.Digits:
        """The MNIST digits jobs train on (the environment's source, as the workers read it)."""
        return datasets.load_mnist(self.jobs.settings.mnist, cache_dir=self.jobs.cache_dir)

    @cached
    def fingerprint(self) -> str:
        return self.digits.fingerprint()

    def view(self, key) -> LabView | None:
        """The stored network ``key`` (read once, the latest :data:`VIEWS` kept), or None when
        none is stored or ``key`` is no key."""
        if not isinstance(key, str) or not KEY.match(key):
            return None
        with self._lock:
            if key in self._views:
                self._views.move_to_end(key)
                return self._views[key]
            data = self.jobs.artifacts.get(key)
            if data is None:
                return None
            view = self._views[key] = LabView(self, key, data)
            while len(self._views) > VIEWS:
                self._views.popitem(last=False)
            return view

    @cached
    def blank_digit(self) -> dict:
        """The image placeholder (a :class:`~app.images.Digit` with nothing in it yet)."""
        return digit_data(None, title=BLANK_TITLE)

    @cached
    def empty_map(self):
        """The placeholder map before a network is shown."""
        import plotly.graph_objects as go

        from ...figures import theme

        return go.Figure(layout=theme("Train a network to see its hidden plane", "lab-empty",
                                      dict(xaxis=dict(visible=False), yaxis=dict(visible=False))))

    def key(self, spec: LabSpec) -> str:
        from fooling.lab import spec_key

        return spec_key(spec, self.fingerprint)

    def warm(self) -> "State":
        _ = self.fingerprint, self.blank_digit, self.empty_map, self.jobs.manager
        return self
