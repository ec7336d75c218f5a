"""scikit-learn's parameter protocol without importing scikit-learn.

:class:`Params` gives an estimator whose ``__init__`` only stores its keyword
arguments the ``get_params`` / ``set_params`` that ``sklearn.base.clone``, grid searches
and reprs rely on, read off the ``__init__`` signature.
"""

from __future__ import annotations

import inspect

__all__ = ["Params"]


class Params:
    """Mixin: ``get_params`` / ``set_params`` from the ``__init__`` signature."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's arguments as stored on the object."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set constructor arguments; returns ``self``."""
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}")
            setattr(self, name, value)
        return self
