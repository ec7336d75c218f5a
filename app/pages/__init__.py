"""The dashboard's pages, one package each, in navbar order.

Every page package (``app.pages.<package>``) holds what that page alone uses, in modules
named for what they hold (``layout``, ``callbacks``, ``compute``, ``figures``, ``text``,
only those it needs), and exposes:

* ``State`` — its per-process computed state, built once from the shared
  :class:`app.resources.Resources` (``State(resources)``; ``warm()`` computes it all);
* ``layout(state)`` — the page's component tree;
* ``register(app, state)`` — its callbacks, registered on the app.

This module is data only: it imports no page, so the shared modules can read it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

__all__ = ["PAGES", "PageInfo", "load_pages", "page_for"]


@dataclass(frozen=True)
class PageInfo:
    """One page: its URL path, package, titles and a one-line description."""

    path: str
    package: str
    title: str
    label: str
    blurb: str


PAGES: tuple[PageInfo, ...] = (
    PageInfo("/", "overview", "Overview", "Overview", "What this demonstrates and every model's score."),
    PageInfo("/iris", "iris", "Iris: logistic regression", "Iris",
             "Regions without end: click far from the flowers."),
    PageInfo("/svm", "svm", "Iris: linear vs RBF SVM", "SVMs", "A kernel that keeps confidence near the data."),
    PageInfo("/mnist", "mnist", "MNIST hidden space", "MNIST",
             "Click anywhere: the network inverts it into an image."),
    PageInfo("/neurons", "neurons", "Neurons and the overlay attack", "Neurons",
             "What neurons look for; a 7 read as a 0."),
    PageInfo("/compare", "compare", "Measuring the fooling", "Compare",
             "How far confidence reaches, for every model, and two remedies."),
    PageInfo("/ood", "ood", "Out of the data: measured like the field", "Out of data",
             "AUROC and FPR@95 on noise, scaled digits and fooling images; Hein's ray; FGSM."),
    PageInfo("/lab", "lab", "Lab: train your own network", "Lab",
             "Your own 2-unit bottleneck, trained in the background; the spec is the link."),
)


def page_for(path: object) -> PageInfo | None:
    """The page served at ``path`` (None for any other path or a non-string)."""
    if not isinstance(path, str):
        return None
    return next((p for p in PAGES if p.path == path), None)


def load_pages() -> dict[str, ModuleType]:
    """Every page package, imported, by path."""
    return {p.path: importlib.import_module(f"{__name__}.{p.package}") for p in PAGES}
