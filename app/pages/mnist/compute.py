"""Per-process state of /mnist: each network's maps and presets, built once, and what a point
of its hidden plane inverts to.

Everything heavy (grids, RBF heads, density checks, reachable regions, null-space
directions, fooling points) comes from :class:`fooling.analysis.PlaneAnalysis`, cached on
disk; the figures are built from it once per process. A click only inverts a point
(microseconds for the affine identity net, milliseconds for tanh) and sends the new image (:func:`app.images.digit_data`) and result.
"""

from __future__ import annotations

import numpy as np

from fooling.inversion import InversionError
from fooling.lazy import cached
from fooling.reachable import contains, nearest_reachable, support_corner

from ...figures import make_hidden_map_figure, make_loss_figure
from ...images import digit_data
from .figures import make_samples_figure

__all__ = ["BLANK_TITLE", "EXACT", "NET_NAMES", "NETWORKS", "NULL_MAX", "NULL_STEP", "NetworkView", "State"]

NETWORKS = ("identity", "tanh", "relu")
"""The networks the page offers, in toggle order (those the workspace holds)."""
NET_NAMES = {"identity": "identity", "tanh": "tanh", "relu": "ReLU"}
"""How the page names each network in prose (a title capitalises the first letter)."""
EXACT = 1e-6
"""Residual under which an inversion lands on the asked-for point."""
NULL_MAX = 2.0
"""The null-space slider runs over [-NULL_MAX, NULL_MAX]: how strongly the hidden digit is added."""
NULL_STEP = 0.1
FAR_RADII = 1e3
"""Where 'far from the data' is measured for the RBF head: this many data radii out."""
TYPICAL_NAME = "typical (density check)"
BLANK_TITLE = "inverted image"


def reach_name(exact: bool) -> str:
    """Name of the reachable-region outline: exact (affine net) or estimated."""
    return "valid images reach" if exact else "valid images reach (estimated)"


class NetworkView:
    """One network of the page: its analysis, both maps, presets, and inversion of a point.

    Parameters
    ----------
    res : app.resources.Resources
    name : str
        A key of ``res.workspace.mnist``.
    """

    def __init__(self, res, name: str):
        self.res = res
        self.name = name
        prose = NET_NAMES.get(name, name)
        self.title = prose[:1].upper() + prose[1:]  # 'Identity', 'Tanh', 'ReLU'
        self.analysis = res.plane(name)
        self.model = self.analysis.model
        self.labels = tuple(str(c) for c in self.model.net.classes)

    @property
    def inverter(self):
        return self.model.inverter

    def _map(self, grid, half, title: str, uirevision: str):
        a, m = self.analysis, self.model
        labels = np.searchsorted(m.net.classes, m.split.y_test)
        # the key is one line of HTML under the maps (a plotly legend would take half of a narrow map);
        # the title sits just above the plot area, clear of the mode bar. No plotly hover: the
        # page's own pointer script previews the image under the pointer and turns a click
        # into clickData (plotly's hover pass over every trace would delay each click)
        layout = dict(showlegend=False, margin=dict(l=48, r=8, t=58, b=42), hovermode=False,
                      title=dict(x=0, xref="paper", y=1, yref="paper", yanchor="bottom", pad=dict(b=6),
                                 font=dict(size=14)))
        return make_hidden_map_figure(
            grid, self.labels, reachable=a.polygon, reachable_name=reach_name(a.exact), typical=a.typical,
            typical_name=TYPICAL_NAME, points=m.test_hidden, labels=labels, half=half,
            title=title, axis_titles=("hidden unit 1", "hidden unit 2"), uirevision=uirevision, layout=layout)

    @cached
    def base_map(self):
        """The linear head's map (markers are drawn over it in the browser)."""
        a = self.analysis
        return self._map(a.grid, a.half, f"{self.title} net: linear head", f"mnist-{self.name}")

    @cached
    def rbf_map(self):
        """The RBF head's map: same plane, bounds, outlines and held-out points."""
        a = self.analysis
        return self._map(a.rbf_grid, a.rbf_half, f"{self.title} net: RBF head",
                         f"mnist-rbf-{self.name}")

    @property
    def presets(self) -> list[dict]:
        """The network's fooling points (:func:`fooling.probes.fooling_points`), one per class."""
        return self.analysis.far_points

    def nearest(self, point: tuple[float, float], valid: bool) -> tuple[float, float] | None:
        """The nearest point valid images reach, when ``valid`` and ``point`` lies outside that region.

        Raises
        ------
        InversionError
            ``point`` lies outside a bounded network's codomain (no image at all reaches it).
        """
        lo, hi = self.inverter.codomain
        if not all(lo < v < hi for v in point):
            raise InversionError("outside the codomain")
        if not valid:
            return None
        polygon = self.analysis.polygon
        if contains(polygon, np.asarray(point)):  # cheap; spares the slow infeasible box solve
            return None
        q = nearest_reachable(polygon, np.asarray(point, dtype=float))
        return float(q[0]), float(q[1])

    @property
    def relu(self) -> bool:
        """A ReLU plane: only the closed positive quadrant is reachable, and what valid images
        reach there is an estimate; inversion and the nearest reachable point come from
        :meth:`fooling.inversion.Inverter.nearest` (exact without 'valid')."""
        return bool(getattr(self.inverter, "relu_", False))

    def invert(self, point: tuple[float, float], valid: bool):
        """(inversion shown for ``point``, the nearest reachable point used instead or None)."""
        inv = self.inverter
        if self.relu:
            at, r = inv.nearest(np.asarray(point, dtype=float), valid=valid)
            same = np.allclose(at, point, rtol=0, atol=1e-12 * max(1.0, float(np.abs(point).max())))
            return r, None if same else (float(at[0]), float(at[1]))
        near = self.nearest(point, valid)
        if near is None:
            return inv.invert(np.array(point), valid=valid), near
        # On the polygon's edge the valid images landing there are the box corner that pushes
        # furthest outward (towards the click) with the edge's few pixels adjusted: start there,
        # or the box solve crawls towards a degenerate solution.
        ref = support_corner(inv.A_, np.subtract(point, near), *inv.pixel_range) if inv.affine_ else None
        return inv.invert(np.array(near), valid=True, ref=ref), near

    def warm(self) -> "NetworkView":
        self.analysis.warm()
        _ = self.base_map, self.rbf_map
        if self.relu:  # its first inversion imports scipy.optimize (seconds): before the workers fork
            self.invert(tuple(float(c) for c in self.analysis.centroid), False)
        return self


class State:
    """Everything /mnist shows, per network and in common, built once per process."""

    def __init__(self, res):
        self.res = res

    @cached
    def networks(self) -> dict[str, NetworkView]:
        return {n: NetworkView(self.res, n) for n in NETWORKS if n in self.res.workspace.mnist}

    def view(self, name: str) -> NetworkView:
        return self.networks[name]

    @cached
    def image_check(self):
        """The image density check, fitted on the 0-3 training images (shared by every network)."""
        return self.res.analysis.image_density(next(iter(self.networks)))

    @cached
    def blank_digit(self) -> dict:
        """The image placeholder (a :class:`~app.images.Digit` with nothing in it yet)."""
        return digit_data(None, title=BLANK_TITLE)

    @cached
    def own_blank_digit(self) -> dict:
        """The own digit's image placeholder."""
        return digit_data(None, title="your digit")

    @cached
    def loss_figure(self):
        return make_loss_figure({f"{n} net": v.model.trained.loss_curve for n, v in self.networks.items()},
                                title="Training loss (essay figs 6-7)",
                                layout=dict(legend=dict(y=-0.3), margin=dict(b=80),  # clear of the axis title
                                            yaxis=dict(dtick="D2", tickformat=".1f")))

    @cached
    def samples_figure(self):
        first = next(iter(self.networks.values()))
        split, names = first.model.split, first.labels
        picks = [np.flatnonzero(split.y_test == int(d))[:2] for d in names]
        tiles = np.stack([[split.X_test[p[i]] for p in picks] for i in range(2)])
        return make_samples_figure(tiles, names)

    @cached
    def accuracy_rows(self) -> list[tuple[str, float, float, float | None, int]]:
        """(network, held-out accuracy, RBF head's, the essay's or None, held-out digits)."""
        return [(n, v.model.trained.test_accuracy, v.analysis.head_accuracy,
                 self.res.essay.get(n, {}).get("accuracy"), len(v.model.split.y_test))
                for n, v in self.networks.items()]

    @cached
    def rbf_far(self) -> tuple[str, float]:
        """The identity net's RBF head far from the data: (its answer, its probability)."""
        v = self.view("identity")
        far = v.analysis.centroid + np.array([FAR_RADII * v.analysis.radius, 0.0])
        p = v.analysis.head.predict_proba(far[None, :])[0]
        k = int(np.argmax(p))
        return v.labels[k], float(p[k])

    def warm(self) -> "State":
        for v in self.networks.values():
            v.warm()
        _ = (self.image_check, self.blank_digit, self.own_blank_digit, self.loss_figure, self.samples_figure,
             self.accuracy_rows, self.rbf_far)
        return self
