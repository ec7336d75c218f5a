"""/iris — logistic regression on petal length and width: regions without end.

One map of the model's class regions over a plane that runs well past the data
(negative sizes included). A click anywhere, or one of the essay's three probes,
shows the model's answer for that point; overlays and the view only patch the
figure, which is built once per process.
"""

from .callbacks import register
from .compute import State
from .layout import layout

__all__ = ["State", "layout", "register"]
