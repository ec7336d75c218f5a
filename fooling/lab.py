"""Your own network: a specification anyone can type, link to and hash.

A :class:`LabSpec` names everything that changes a lab network's trained weights: which
digits it learns (2 to 10 of 0-9), its hidden layers (1 to 3 layers of 2 to 128 units)
before the 2-unit bottleneck, the activation (``identity``, ``tanh`` or ``relu``), the
solver (``adam`` or ``sgd``), the learning rate, the L2 penalty ``alpha``, the number of
epochs (1 to 300) and the seed. :data:`LIMITS` says what is allowed, in words.

* :func:`parse_spec` checks values typed in a form (strings or numbers) and raises
  :class:`SpecError` saying what is allowed; nothing is trained for a spec it refuses.
* :func:`from_query` reads a URL query (``digits=0,1,2,3&hidden=50,20&act=relu&...``):
  missing keys take the defaults, and bad or hostile ones (repeated keys, unknown keys,
  garbage, very long values) fall back to the defaults with one short problem each.
* :meth:`LabSpec.query` is the canonical query (the page's shareable URL), and
  :func:`spec_key` the artifact key: spec, data fingerprint, split and version.

Importing this module does not import scikit-learn.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any, Mapping
from urllib.parse import parse_qsl

from . import __version__, datasets, store

__all__ = ["ACTIVATIONS", "DEFAULT", "LAB_FORMAT", "LIMITS", "LabSpec", "MAX_QUERY", "QUERY_KEYS",
           "SOLVERS", "SpecError", "from_params", "from_query", "parse_spec", "spec_key"]

ACTIVATIONS = ("identity", "tanh", "relu")
SOLVERS = ("adam", "sgd")
MAX_DIGITS, MIN_DIGITS = 10, 2
MAX_LAYERS, MIN_UNITS, MAX_UNITS = 3, 2, 128
MAX_EPOCHS = 300
LR_RANGE = (1e-5, 1.0)
ALPHA_RANGE = (0.0, 1.0)
MAX_SEED = 2**31 - 1
MAX_VALUE = 64
"""Longest text accepted for one value (a form field or a query parameter)."""
MAX_QUERY = 1024
"""Longest URL query read at all (longer ones fall back to the defaults whole)."""
LAB_FORMAT = 1
"""Version of what a lab network's key covers (raise it when training changes)."""

LIMITS = {
    "digits": f"{MIN_DIGITS} to {MAX_DIGITS} different digits of 0-9",
    "hidden": f"1 to {MAX_LAYERS} layers of {MIN_UNITS} to {MAX_UNITS} units, e.g. 50,20",
    "activation": " or ".join(ACTIVATIONS),
    "solver": " or ".join(SOLVERS),
    "lr": f"a learning rate from {LR_RANGE[0]:g} to {LR_RANGE[1]:g}",
    "alpha": f"an L2 penalty from {ALPHA_RANGE[0]:g} to {ALPHA_RANGE[1]:g}",
    "epochs": f"a whole number of epochs from 1 to {MAX_EPOCHS}",
    "seed": f"a whole number from 0 to {MAX_SEED}",
}
"""What each field allows, in words (shown with every refusal)."""

QUERY_KEYS = {"digits": "digits", "hidden": "hidden", "act": "activation", "solver": "solver",
              "lr": "lr", "alpha": "alpha", "epochs": "epochs", "seed": "seed"}
"""URL query key -> field of :class:`LabSpec`."""

_INT = re.compile(r"^[+]?\d{1,10}$")
_LIST = re.compile(r"^\s*\d{1,4}(\s*,\s*\d{1,4}){0,15}\s*$")


class SpecError(ValueError):
    """A spec that cannot be trained; the message says what is allowed.

    Attributes
    ----------
    field : str
        The field at fault (a key of :data:`LIMITS`).
    """

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class LabSpec:
    """A lab network's hyper-parameters (checked: build one with :func:`parse_spec`).

    Attributes
    ----------
    digits : tuple of int
        The digits it learns, sorted, 2 to 10 of 0-9.
    hidden : tuple of int
        Hidden layers before the 2-unit bottleneck (the network is ``hidden + (2,)``).
    activation, solver : str
    lr, alpha : float
        ``learning_rate_init`` and the L2 penalty of ``MLPClassifier``.
    epochs : int
        Passes over every training row (see :func:`fooling.training.train_epochs`).
    seed : int
        Initial weights and the order of the mini-batches.
    """

    digits: tuple[int, ...] = (0, 1, 2, 3)
    hidden: tuple[int, ...] = (50, 20)
    activation: str = "relu"
    solver: str = "adam"
    lr: float = 1e-3
    alpha: float = 1e-4
    epochs: int = 50
    seed: int = 21

    @property
    def layers(self) -> tuple[int, ...]:
        """Every hidden layer, the 2-unit bottleneck included."""
        return self.hidden + (2,)

    def as_dict(self) -> dict:
        """Plain JSON-ready fields (what :func:`spec_key` hashes)."""
        d = asdict(self)
        d["digits"], d["hidden"] = list(self.digits), list(self.hidden)
        return d

    def query(self) -> str:
        """The canonical URL query, e.g. ``digits=0,1,2,3&hidden=50,20&act=relu&...``."""
        values = {"digits": ",".join(map(str, self.digits)), "hidden": ",".join(map(str, self.hidden)),
                  "act": self.activation, "solver": self.solver, "lr": repr(self.lr),
                  "alpha": repr(self.alpha), "epochs": str(self.epochs), "seed": str(self.seed)}
        return "&".join(f"{k}={v}" for k, v in values.items())

    def describe(self) -> str:
        """One line: '784-50-20-2-4 relu net on digits 0, 1, 2, 3 (adam, lr 0.001, ...)'."""
        sizes = "-".join(map(str, (784, *self.layers, len(self.digits))))
        return (f"{sizes} {self.activation} net on digits {', '.join(map(str, self.digits))} "
                f"({self.solver}, lr {self.lr:g}, alpha {self.alpha:g}, {self.epochs} epochs, seed {self.seed})")


DEFAULT = LabSpec()
"""The spec the page starts with."""


def _text(value: Any, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise SpecError(field, f"{field} must be {LIMITS[field]}.")
    text = str(value).strip()
    if len(text) > MAX_VALUE:
        raise SpecError(field, f"{field} is too long ({len(text):,} characters): it must be {LIMITS[field]}.")
    return text


def _int_list(value: Any, field: str) -> list[int]:
    if isinstance(value, (list, tuple)):
        if len(value) > 16 or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise SpecError(field, f"{field} must be {LIMITS[field]}.")
        return [int(v) for v in value]
    text = _text(value, field)
    if not _LIST.match(text):
        raise SpecError(field, f"{field} must be {LIMITS[field]}.")
    return [int(v) for v in text.split(",")]


def _digits(value: Any) -> tuple[int, ...]:
    got = _int_list(value, "digits")
    if len(set(got)) != len(got) or not all(0 <= d <= 9 for d in got) \
            or not MIN_DIGITS <= len(got) <= MAX_DIGITS:
        raise SpecError("digits", f"digits must be {LIMITS['digits']} (got {len(set(got))}).")
    return tuple(sorted(got))


def _hidden(value: Any) -> tuple[int, ...]:
    got = _int_list(value, "hidden")
    if not 1 <= len(got) <= MAX_LAYERS or not all(MIN_UNITS <= u <= MAX_UNITS for u in got):
        raise SpecError("hidden", f"hidden must be {LIMITS['hidden']}.")
    return tuple(got)


def _choice(value: Any, field: str, options: tuple[str, ...]) -> str:
    text = _text(value, field) if isinstance(value, str) else None
    if text not in options:
        raise SpecError(field, f"{field} must be {LIMITS[field]}.")
    return text


def _float(value: Any, field: str, lo: float, hi: float) -> float:
    text = _text(value, field)
    try:
        v = float(text)
    except ValueError:
        raise SpecError(field, f"{field} must be {LIMITS[field]}.") from None
    if not math.isfinite(v) or not lo <= v <= hi:
        raise SpecError(field, f"{field} must be {LIMITS[field]}.")
    return v


def _int(value: Any, field: str, lo: int, hi: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _text(value, field)
    if not _INT.match(text) or not lo <= int(text) <= hi:
        raise SpecError(field, f"{field} must be {LIMITS[field]}.")
    return int(text)


_PARSERS = {
    "digits": _digits, "hidden": _hidden,
    "activation": lambda v: _choice(v, "activation", ACTIVATIONS),
    "solver": lambda v: _choice(v, "solver", SOLVERS),
    "lr": lambda v: _float(v, "lr", *LR_RANGE), "alpha": lambda v: _float(v, "alpha", *ALPHA_RANGE),
    "epochs": lambda v: _int(v, "epochs", 1, MAX_EPOCHS), "seed": lambda v: _int(v, "seed", 0, MAX_SEED),
}


def parse_spec(values: Mapping[str, Any]) -> LabSpec:
    """A checked :class:`LabSpec` from form values (strings, numbers, lists of digits).

    Parameters
    ----------
    values : mapping
        Keys are :class:`LabSpec` fields; every field must be present.

    Raises
    ------
    SpecError
        For the first field that is missing or not allowed (the message says what is).
    """
    if not isinstance(values, Mapping):
        raise SpecError("digits", "A spec must be a set of named values.")
    out = {}
    for field, parse in _PARSERS.items():
        if field not in values or values[field] is None:
            raise SpecError(field, f"{field} is missing: it must be {LIMITS[field]}.")
        out[field] = parse(values[field])
    return LabSpec(**out)


def from_query(search: Any) -> tuple[LabSpec, list[str]]:
    """The spec a URL query names, and what was wrong with it.

    Parameters
    ----------
    search : str
        ``location.search`` (with or without the leading ``?``).

    Returns
    -------
    spec : LabSpec
        Keys that are missing take :data:`DEFAULT`'s values; so does every bad key.
    problems : list of str
        One short sentence per bad key (empty when the query is usable as it stands).
    """
    if search is None or search == "":
        return DEFAULT, []
    if not isinstance(search, str):
        return DEFAULT, ["The link's settings are not text: the defaults are shown."]
    if len(search) > MAX_QUERY:
        return DEFAULT, [f"The link's settings are {len(search):,} characters long (at most {MAX_QUERY:,} "
                         "are read): the defaults are shown."]
    try:
        pairs = parse_qsl(search.removeprefix("?"), keep_blank_values=True, max_num_fields=2 * len(QUERY_KEYS))
    except ValueError:
        return DEFAULT, ["The link has too many settings: the defaults are shown."]
    return _from_pairs(pairs)


def from_params(params: Any) -> tuple[LabSpec, list[str]]:
    """:func:`from_query` of a query already split into ``{key: [values]}`` (as a browser's
    ``URLSearchParams`` gives it); anything else falls back to the defaults with a problem."""
    if params is None:
        return DEFAULT, []
    if not isinstance(params, Mapping) or len(params) > 2 * len(QUERY_KEYS):
        return DEFAULT, ["The link's settings could not be read: the defaults are shown."]
    pairs = []
    for key, values in params.items():
        if not isinstance(key, str) or not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return DEFAULT, ["The link's settings could not be read: the defaults are shown."]
        pairs += [(key, v) for v in values[:3]]
    return _from_pairs(pairs)


def _from_pairs(pairs: list[tuple[str, str]]) -> tuple[LabSpec, list[str]]:
    values = DEFAULT.as_dict()
    problems, seen = [], set()
    for key, raw in pairs:
        field = QUERY_KEYS.get(key)
        if field is None:
            problems.append(f"Unknown setting {key[:20]!r} ignored.")
            continue
        if key in seen:
            if f"{key} is given more than once: the default is used." not in problems:
                problems.append(f"{key} is given more than once: the default is used.")
            values[field] = DEFAULT.as_dict()[field]
            continue
        seen.add(key)
        try:
            values[field] = getattr(parse_spec({**values, field: raw}), field)
        except SpecError as exc:
            problems.append(f"{key}: {exc} The default is used.")
    return parse_spec(values), problems[:4]


def spec_key(spec: LabSpec, fingerprint: str) -> str:
    """Artifact key of a lab network: spec, data fingerprint, split, format and version."""
    return store.artifact_key("lab", LAB_FORMAT, spec.as_dict(), fingerprint, datasets.SPLIT_SEED,
                              datasets.TEST_FRACTION, __version__)
