"""Everything measured about a workspace, computed once and cached on disk.

Two objects orchestrate the library's pieces; every view (the dashboard's pages, the
command line's ``reproduce``) reads from them instead of recomputing:

* :class:`PlaneAnalysis` — one network's 2-unit hidden plane: the class regions of its
  own linear head and of an RBF head on the same encodings, a density check on the
  training encodings and its "typical" contour, the region valid images reach, the
  image directions the network cannot see, and one fooling point per class.
* :class:`WorkspaceAnalysis` — every model of a workspace on its plane
  (:class:`Plane`), the image density check, and the measurements of the fooling:
  fooling rates (:func:`workspace_fooling_rates`), confidence against distance and
  confidence/density maps; and the field's measurements of the 0-3 networks:
  out-of-distribution detection (:mod:`fooling.ood`, :mod:`fooling.oodsets`), Hein's
  alpha-ray (:mod:`fooling.rays`) and the FGSM table (:mod:`fooling.attacks`).

Whatever costs more than a few milliseconds is stored as an ``.npz`` in the
workspace's cache folder, beside the trained models, under a key made of the models'
own keys (spec, data fingerprint, split, version) and the computation's parameters;
it is read back with ``allow_pickle=False`` and rebuilt with a warning when corrupt
(:func:`fooling.store.load_or_build`). A warm start computes none of it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from . import __version__, store
from .density import DensityCheck, ImageDensityCheck
from .grids import Bounds, ProbaFn
from .heads import RBFHead, fit_rbf_head
from .lazy import cached
from .metrics import confidence_vs_distance, fooling_summary
from .metrics_maps import confidence_density_map, log_density_level
from .measures import OOD_NETWORKS, FieldMeasures
from .network import predict_proba_from
from .probes import data_radius, fooling_points
from .reachable import estimate_reachable, null_space_basis, reachable_polygon
from .regions import RegionGrid, contour_segments, evaluate_grid

__all__ = ["MAP_EXTENT", "OOD_NETWORKS", "Plane", "PlaneAnalysis", "WorkspaceAnalysis", "model_planes",
           "workspace_fooling_rates"]

MAP_EXTENT = 4.0
"""An unbounded plane's map spans this many data radii around the encodings' centroid."""

REACH_DIRECTIONS = 256
"""Directions searched for extreme valid images when estimating a nonlinear net's reachable region."""

PLANE_FORMAT = 2
"""Version of what a :class:`PlaneAnalysis` file holds (part of its key: raise it when the arrays change)."""


_json = store.jsonable

def _prefixed(arrays: Mapping[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def _segments_arrays(segments: list[np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    flat = np.concatenate([np.asarray(s, dtype=float).reshape(-1, 2, 2) for s in segments]) \
        if segments else np.empty((0, 2, 2))
    return {f"{prefix}segments": flat, f"{prefix}counts": np.array([len(s) for s in segments], dtype=np.int64)}


def _segments_list(arrays: Mapping[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    flat, counts = arrays[f"{prefix}segments"], arrays[f"{prefix}counts"]
    return list(np.split(flat, np.cumsum(counts)[:-1])) if len(counts) else []


def _cached_npz(path: Path, build: Callable[[], tuple[dict, dict]],
                check: Callable[[dict, dict], None] | None = None) -> tuple[dict, dict]:
    arrays, meta, _ = store.load_or_build(path, build, check)
    return arrays, meta


def map_bounds(centroid: np.ndarray, radius: float, codomain: tuple[float, float],
               extent: float = MAP_EXTENT) -> Bounds:
    """The box a hidden-plane map shows.

    A plane bounded on both sides (tanh) shows its whole codomain square; an unbounded
    one ``extent`` data radii around the centroid of the training encodings; a plane
    bounded below only (ReLU) runs from a little below that bound (so that the edge of
    what the network can reach stays in view) to ``extent`` data radii past the centroid.
    """
    lo, hi = codomain
    if np.isfinite(lo) and np.isfinite(hi):
        return (float(lo), float(hi), float(lo), float(hi))
    r = extent * radius
    if np.isfinite(lo):
        x1, y1 = centroid[0] + r, centroid[1] + r
        pad = 0.04 * max(x1 - lo, y1 - lo)
        return (float(lo - pad), float(x1), float(lo - pad), float(y1))
    return (float(centroid[0] - r), float(centroid[0] + r), float(centroid[1] - r), float(centroid[1] + r))


class PlaneAnalysis:
    """One trained network's 2-unit hidden plane, analysed once (and cached on disk).

    Parameters
    ----------
    model : fooling.workspace.MnistModel
        A network whose last hidden layer has 2 units.
    resolution : int, default=200
        Grid points per axis of the region maps.
    extent : float, default=:data:`MAP_EXTENT`
        Data radii around the centroid an unbounded plane's map spans.
    cache_dir : path-like, optional
        Where the analysis is cached; default :func:`fooling.store.cache_dir`. None of
        the files is needed: a missing or corrupt one is rebuilt.

    Attributes (each computed or loaded on first use)
    ----------
    centroid, radius : the training encodings' centroid and data radius
    bounds : (x0, x1, y0, y1) of the maps; ``bounded`` whether the plane is bounded
    grid, rbf_grid : RegionGrid of the linear head and of the RBF head over ``bounds``
    half, rbf_half : list of contour segments (one array per class) at P = 1/2 of each head
    head : RBFHead; head_accuracy : its held-out accuracy through the network
    density : DensityCheck on the training encodings; typical : its boundary contour
    polygon : vertices of the region valid images reach; exact : whether it is exact
    null_dim : dimension of the image directions the network cannot see
    directions : ndarray of shape (n_classes, n_inputs), per class a held-out digit of
        that class projected onto those directions, scaled to a largest pixel of 1
    far_points : :func:`fooling.probes.fooling_points` of the network
    """

    def __init__(self, model, *, resolution: int = 200, extent: float = MAP_EXTENT, cache_dir=None):
        self.model = model
        self.resolution = int(resolution)
        self.extent = float(extent)
        self.cache_dir = Path(store.cache_dir() if cache_dir is None else cache_dir)

    @property
    def key(self) -> str:
        return store.artifact_key("plane", self.model.key, self.resolution, self.extent,
                                  REACH_DIRECTIONS, PLANE_FORMAT, __version__)

    @property
    def path(self) -> Path:
        return self.cache_dir / f"plane-{self.model.name}-{self.key}.npz"

    def build(self) -> tuple[dict, dict]:
        """Compute every array of the analysis: ``(arrays, meta)`` for :mod:`fooling.store`."""
        m = self.model
        centroid, radius = data_radius(m.train_hidden)
        inv = m.inverter
        bounds = map_bounds(centroid, radius, inv.codomain, self.extent)
        grid = evaluate_grid(lambda H: predict_proba_from(m.net, H, m.hidden_layer), bounds, self.resolution)
        head = fit_rbf_head(m)
        rbf_grid = evaluate_grid(head.predict_proba, bounds, self.resolution)
        if inv.affine_:
            polygon, exact = reachable_polygon(inv.A_, inv.c_, *inv.pixel_range), True
            seen = inv.A_  # the whole input -> hidden map: d @ A = 0 changes no hidden point
        else:
            polygon, exact = estimate_reachable(inv, REACH_DIRECTIONS), False
            seen = m.net.layers[0].W  # d @ W1 = 0 changes nothing after the first layer, any activation
        density = DensityCheck().fit(m.train_hidden)
        gx, gy = np.meshgrid(grid.xs, grid.ys)
        logd = density.log_density(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
        typical = contour_segments(logd, grid.xs, grid.ys, log_density_level(density))
        basis = null_space_basis(seen)
        X, y = m.split.X_test, m.split.y_test
        directions = []
        for label in m.net.classes:
            pick = X[y == label]
            v = pick[np.argmin(np.linalg.norm(pick - pick.mean(axis=0), axis=1))]  # a typical one
            d = basis @ (basis.T @ v)
            directions.append(d / np.abs(d).max())
        arrays = {
            "centroid": centroid, "radius": np.array(radius), "bounds": np.array(bounds),
            "xs": grid.xs, "ys": grid.ys, "proba": grid.proba, "rbf_proba": rbf_grid.proba,
            "polygon": polygon, "exact": np.array(exact), "typical": typical,
            "null_dim": np.array(basis.shape[1]), "directions": np.array(directions),
            "head_accuracy": np.array(head.score_images(X, y)),
            **_segments_arrays(grid.contours(0.5), "half_"),
            **_segments_arrays(rbf_grid.contours(0.5), "rbf_half_"),
            **{f"head__{k}": v for k, v in head.to_arrays().items()},
            **{f"density__{k}": v for k, v in density.to_arrays().items()},
        }
        return arrays, {"far_points": _json(fooling_points(m)), "model": m.key}

    def _check(self, arrays: dict, meta: dict) -> None:
        if meta.get("model") != self.model.key:
            raise ValueError("the analysis belongs to another model")
        if arrays["proba"].shape[:2] != (self.resolution, self.resolution):
            raise ValueError(f"grid of shape {arrays['proba'].shape}")
        RBFHead.from_arrays(_prefixed(arrays, "head__"))
        DensityCheck.from_arrays(_prefixed(arrays, "density__"))

    @cached
    def _stored(self) -> tuple[dict, dict]:
        return _cached_npz(self.path, self.build, self._check)

    def warm(self) -> "PlaneAnalysis":
        """Load (or compute) everything now."""
        for name in ("grid", "rbf_grid", "half", "rbf_half", "head", "density", "far_points"):
            getattr(self, name)
        return self

    # ---- what the arrays mean --------------------------------------------------------------

    @property
    def _arrays(self) -> dict:
        return self._stored[0]

    @cached
    def centroid(self) -> np.ndarray:
        return np.asarray(self._arrays["centroid"], dtype=float)

    @cached
    def radius(self) -> float:
        return float(self._arrays["radius"])

    @cached
    def bounds(self) -> Bounds:
        return tuple(float(b) for b in self._arrays["bounds"])

    @property
    def bounded(self) -> bool:
        """Whether the network's hidden units are bounded on both sides (tanh)."""
        lo, hi = self.model.inverter.codomain
        return bool(np.isfinite(lo) and np.isfinite(hi))

    @cached
    def grid(self) -> RegionGrid:
        a = self._arrays
        return RegionGrid(a["xs"], a["ys"], a["proba"])

    @cached
    def rbf_grid(self) -> RegionGrid:
        a = self._arrays
        return RegionGrid(a["xs"], a["ys"], a["rbf_proba"])

    @cached
    def half(self) -> list[np.ndarray]:
        return _segments_list(self._arrays, "half_")

    @cached
    def rbf_half(self) -> list[np.ndarray]:
        """The RBF head's P = 1/2 contour segments (one array per class)."""
        return _segments_list(self._arrays, "rbf_half_")

    @cached
    def head(self) -> RBFHead:
        m = self.model
        return RBFHead.from_arrays(_prefixed(self._arrays, "head__"), encoder=m.net)

    @property
    def head_accuracy(self) -> float:
        return float(self._arrays["head_accuracy"])

    @cached
    def density(self) -> DensityCheck:
        return DensityCheck.from_arrays(_prefixed(self._arrays, "density__"))

    @property
    def typical(self) -> np.ndarray:
        return self._arrays["typical"]

    @property
    def polygon(self) -> np.ndarray:
        return self._arrays["polygon"]

    @property
    def exact(self) -> bool:
        return bool(self._arrays["exact"])

    @property
    def null_dim(self) -> int:
        return int(self._arrays["null_dim"])

    @property
    def directions(self) -> np.ndarray:
        return self._arrays["directions"]

    @property
    def far_points(self) -> list[dict]:
        return self._stored[1]["far_points"]

    def proba(self, H: np.ndarray) -> np.ndarray:
        """The linear head's class probabilities at hidden points of shape (n, 2)."""
        return predict_proba_from(self.model.net, H, self.model.hidden_layer)


@dataclass(frozen=True)
class Plane:
    """A model over its 2D plane: what fooling rates are measured on.

    Attributes
    ----------
    name : str
    proba_fn : callable
        Points of shape (n, 2) to probabilities of shape (n, n_classes).
    points : ndarray of shape (n_train, 2)
        Training points (iris petals, or a net's training encodings).
    density : fooling.density.DensityCheck
        Fitted on ``points``.
    bounds : tuple of 4 floats or None
        The codomain square of a bounded (tanh) plane.
    n_classes : int
    """

    name: str
    proba_fn: ProbaFn
    points: np.ndarray
    density: object
    bounds: Bounds | None
    n_classes: int


MLP_PLANES = ("identity", "tanh")
"""The networks whose planes :func:`model_planes` includes (as ``mlp_<name>``)."""


def model_planes(ws, analyses: Mapping[str, PlaneAnalysis] | None = None,
                 iris_density: DensityCheck | None = None) -> dict[str, Plane]:
    """Every model of a workspace over its plane, with a density check on its data.

    Models: the iris ``logistic``, ``svm_linear``, ``svm_rbf`` on the petal plane (data:
    the 150 petals); ``mlp_identity``, ``mlp_tanh`` on their hidden plane (data: the
    training encodings; tanh's codomain square as ``bounds``); ``mlp_identity_rbf_head``,
    the identity net's encoder with its RBF head. Nets missing from ``ws.mnist`` are
    skipped.

    Parameters
    ----------
    ws : fooling.workspace.Workspace
    analyses : mapping of str to PlaneAnalysis, optional
        Supplies each net's density check and RBF head (fitted here when absent).
    iris_density : DensityCheck, optional
        Fitted on the petals (fitted here when absent).
    """
    out: dict[str, Plane] = {}
    iris_density = iris_density if iris_density is not None else DensityCheck().fit(ws.iris.X)
    for name in ("logistic", "svm_linear", "svm_rbf"):
        out[name] = Plane(name, ws.iris.models[name].predict_proba, ws.iris.X, iris_density, None,
                          len(ws.iris.names))
    for net in MLP_PLANES:
        if net not in ws.mnist:
            continue
        m = ws.mnist[net]
        a = (analyses or {}).get(net)
        lo, hi = m.inverter.codomain
        bounds = (lo, hi, lo, hi) if np.isfinite([lo, hi]).all() else None
        density = a.density if a is not None else DensityCheck().fit(m.train_hidden)
        k = len(m.net.classes)
        out[f"mlp_{net}"] = Plane(f"mlp_{net}", lambda H, m=m: predict_proba_from(m.net, H, m.hidden_layer),
                                  m.train_hidden, density, bounds, k)
        if net == "identity":
            head = a.head if a is not None else fit_rbf_head(m)
            out["mlp_identity_rbf_head"] = Plane("mlp_identity_rbf_head", head.predict_proba,
                                                 m.train_hidden, density, None, k)
    return out


def workspace_fooling_rates(ws, *, Rs: tuple[float, ...] = (1, 2, 5, 10), threshold: float = 0.99,
                            resolution: int = 201, planes: dict[str, Plane] | None = None,
                            rbf_head_accuracy: float | None = None) -> dict:
    """:func:`fooling.metrics.fooling_summary` for every model of a workspace.

    Parameters
    ----------
    ws : fooling.workspace.Workspace
    resolution : int, default=201
        Grid cells per side; 201 is within ~1e-3 of 801 on the identity net (see
        ``tests/benchmarks/bench_fooling_rate.py``).
    planes : dict, optional
        :func:`model_planes` of ``ws``, when the caller has them already.
    rbf_head_accuracy : float, optional
        The identity net's RBF head's held-out accuracy, when known.

    Returns
    -------
    dict
        ``{"models": {name: summary}, "rbf_head_test_accuracy": float or None,
        "resolution": int, "threshold": float}``.
    """
    planes = model_planes(ws) if planes is None else planes
    models = {name: fooling_summary(p.proba_fn, p.points, p.density, bounds=p.bounds, Rs=Rs,
                                    threshold=threshold, resolution=resolution)
              for name, p in planes.items()}
    accuracy = rbf_head_accuracy
    if accuracy is None and "mlp_identity_rbf_head" in planes:
        m = ws.mnist["identity"]
        head = fit_rbf_head(m)
        accuracy = head.score_images(m.split.X_test, m.split.y_test)
    return {"models": models, "rbf_head_test_accuracy": accuracy, "resolution": resolution,
            "threshold": threshold}


class WorkspaceAnalysis(FieldMeasures):
    """Every measurement of a workspace, each computed once and cached on disk.

    The out-of-distribution tables, the alpha-ray and the FGSM table of the 0-3
    networks come from :class:`fooling.measures.FieldMeasures` (``scorer``, ``ood``,
    ``ood_report``, ``ood_examples``, ``alpha_ray``, ``fgsm``).

    Parameters
    ----------
    ws : fooling.workspace.Workspace
    resolution : int, default=200
        Of each :class:`PlaneAnalysis`'s region maps.
    cache_dir : path-like, optional
        Default: the workspace's own cache folder.
    """

    def __init__(self, ws, *, resolution: int = 200, cache_dir=None):
        self.ws = ws
        self.resolution = int(resolution)
        base = cache_dir if cache_dir is not None else getattr(ws, "cache_dir", None)
        self.cache_dir = Path(store.cache_dir() if base is None else base)
        self._planes: dict[str, PlaneAnalysis] = {}

    @property
    def key(self) -> str:
        """What every measurement here depends on: the data and every model."""
        return store.artifact_key("workspace", getattr(self.ws, "fingerprint", ""),
                                  sorted((n, m.key) for n, m in self.ws.mnist.items()),
                                  list(self.ws.iris.names), __version__)

    def plane(self, name: str) -> PlaneAnalysis:
        """The :class:`PlaneAnalysis` of network ``name`` (one object per name)."""
        if name not in self._planes:
            self._planes.setdefault(name, PlaneAnalysis(self.ws.mnist[name], resolution=self.resolution,
                                                        cache_dir=self.cache_dir))
        return self._planes[name]

    def _file(self, kind: str, *params) -> Path:
        return self.cache_dir / f"{kind}-{store.artifact_key(self.key, kind, params)}.npz"

    @cached
    def iris_density(self) -> DensityCheck:
        """The density check on the 150 petals."""
        def build():
            return DensityCheck().fit(self.ws.iris.X).to_arrays(), {}

        arrays, _ = _cached_npz(self._file("iris-density"), build,
                                lambda a, m: DensityCheck.from_arrays(a))
        return DensityCheck.from_arrays(arrays)

    def image_density(self, name: str = "identity") -> ImageDensityCheck:
        """The image density check fitted on the training images of network ``name``'s split."""
        m = self.ws.mnist[name]
        return self._image_density(tuple(int(c) for c in m.net.classes), name)

    def _image_density(self, classes: tuple[int, ...], name: str) -> ImageDensityCheck:
        cache = self.__dict__.setdefault("_image_checks", {})
        if classes not in cache:
            m = self.ws.mnist[name]

            def build():
                return ImageDensityCheck().fit(m.split.X_train).to_arrays(), {}

            arrays, _ = _cached_npz(self._file("image-density", list(classes)), build,
                                    lambda a, meta: ImageDensityCheck.from_arrays(a))
            cache.setdefault(classes, ImageDensityCheck.from_arrays(arrays))
        return cache[classes]

    @cached
    def planes(self) -> dict[str, Plane]:
        """:func:`model_planes` of the workspace, reusing the cached analyses."""
        analyses = {n: self.plane(n) for n in MLP_PLANES if n in self.ws.mnist}
        return model_planes(self.ws, analyses, self.iris_density)

    def fooling_rates(self, *, Rs: tuple[float, ...] = (1, 2, 5, 10), threshold: float = 0.99,
                      resolution: int = 201) -> dict:
        """:func:`workspace_fooling_rates`, cached (as JSON inside an ``.npz``)."""
        def build():
            acc = self.plane("identity").head_accuracy if "identity" in self.ws.mnist else None
            out = workspace_fooling_rates(self.ws, Rs=Rs, threshold=threshold, resolution=resolution,
                                          planes=self.planes, rbf_head_accuracy=acc)
            return {}, {"summary": _json(out)}

        _, meta = _cached_npz(self._file("fooling-rates", list(Rs), threshold, resolution), build,
                              lambda a, m: m["summary"]["models"])
        return meta["summary"]

    def confidence_curve(self, name: str, *, R: float, resolution: int = 401) -> dict:
        """:func:`fooling.metrics.confidence_vs_distance` of model ``name``'s plane, cached."""
        def build():
            p = self.planes[name]
            out = confidence_vs_distance(p.proba_fn, p.points, R=R, resolution=resolution, bounds=p.bounds)
            return {k: np.asarray(v) for k, v in out.items()}, {}

        arrays, _ = _cached_npz(self._file("curve", name, R, resolution), build,
                                lambda a, m: a["median"])
        return {k: (float(v) if k == "radius" else np.asarray(v)) for k, v in arrays.items()}

    def density_map(self, name: str, *, rho: float, threshold: float = 0.99, resolution: int = 201,
                    contour_resolution: int = 401, percentiles=(None, 50.0)) -> dict:
        """:func:`fooling.metrics_maps.confidence_density_map` of model ``name``'s plane, cached."""
        pcts = [None if p is None else float(p) for p in percentiles]

        def build():
            p = self.planes[name]
            centroid, _ = data_radius(p.points)
            out = confidence_density_map(p.proba_fn, p.density, centroid, rho, threshold=threshold,
                                         resolution=resolution, contour_resolution=contour_resolution,
                                         bounds=p.bounds, percentiles=pcts)
            arrays = {k: np.asarray(out[k]) for k in ("xs", "ys", "top", "flagged", "box")}
            for i, (_, segs) in enumerate(out["contours"]):
                arrays[f"contour{i}"] = segs
            meta = {k: out[k] for k in ("share", "flagged_share", "n_cells", "n_confident", "max_confidence")}
            meta["levels"] = [float(pct) for pct, _ in out["contours"]]
            return arrays, _json(meta)

        arrays, meta = _cached_npz(self._file("density-map", name, rho, threshold, resolution,
                                              contour_resolution, pcts), build,
                                   lambda a, m: a["top"])
        out: dict = {k: np.asarray(arrays[k]) for k in ("xs", "ys", "top", "flagged")}
        out["box"] = tuple(float(v) for v in arrays["box"])
        out.update({k: meta[k] for k in ("share", "flagged_share", "n_cells", "n_confident", "max_confidence")})
        out["contours"] = [(lvl, arrays[f"contour{i}"]) for i, lvl in enumerate(meta["levels"])]
        return out
