"""/mnist — click anywhere in a network's 2-unit hidden plane and see the image it inverts to.

Two maps of the same plane: the network's own linear head and an RBF-kernel head fitted
on the same hidden encodings (the first remedy). Both show the region images with
pixels in [0, 1] can reach, and a density check's 'typical' line (the second remedy).
A click on either map inverts the point; a slider moves the image along directions the
network cannot see (the inverse is not unique); every click gets density verdicts.
"""

from .callbacks import register
from .compute import State
from .layout import layout

__all__ = ["State", "layout", "register"]
