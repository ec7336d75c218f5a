"""fooling: why discriminative models are easily fooled, in reproducible examples.

The core library behind the dashboard: the essays' models (:mod:`fooling.models`),
networks as arrays (:mod:`fooling.network`), inversion of a hidden point into an input
image (:mod:`fooling.inversion`), class regions over a plane (:mod:`fooling.regions`),
what neurons look for (:mod:`fooling.neurons`), the overlay attack
(:mod:`fooling.attacks`), and cached artifacts (:mod:`fooling.store`).
It depends on numpy, scipy and scikit-learn only; importing it trains, downloads and
writes nothing.
"""

__version__ = "0.1.0"
