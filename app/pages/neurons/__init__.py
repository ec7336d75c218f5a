"""/neurons — what each neuron "looks for", and the overlay attack (the second essay).

Part 1 sets a neuron's effective weights (noise-like) beside its activity-weighted
average of the training digits (digit-like). Part 2 blends a held-out digit with the
target digit's output-neuron pattern and follows the prediction as the strength grows.
"""

from .callbacks import register
from .compute import State
from .layout import layout

__all__ = ["State", "layout", "register"]
