"""/lab — train your own network and see everything /mnist shows, for it.

Choose the digits, the hidden layers before the 2-unit bottleneck, the activation, the
solver, the learning rate, the L2 penalty, the epochs and the seed; the spec is the page's
URL. Training runs as a Dash background callback (:mod:`app.jobs`: local processes, or
Celery workers with Redis) with a progress bar and a Cancel button, under the host's limits
(:mod:`app.registry`); a spec trained once is answered from the artifact store at once.
The network's hidden plane is shown with its own linear head and an RBF head, its loss
curve, accuracy and fooling rates; a click anywhere inverts the point into an image.
"""

from .callbacks import register
from .compute import State
from .layout import layout

__all__ = ["State", "layout", "register"]
