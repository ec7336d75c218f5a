"""/svm — linear and RBF SVMs side by side on the extended petal plane.

Both maps share zoom and pan (a clientside callback copies one map's axis ranges to
the other with a ``Patch``); a click on either shows both models' answers for that
point and marks it on both maps.
"""

from .callbacks import register
from .compute import State
from .layout import layout

__all__ = ["State", "layout", "register"]
