"""/ood — the 0-3 networks measured as the out-of-distribution literature measures detectors.

OpenOOD's metrics for six scores on near- and far-OOD sets, Hein et al.'s alpha-ray and an
FGSM table beside Goodfellow et al.'s published numbers; all from
:class:`fooling.analysis.WorkspaceAnalysis` (``ood_report``, ``ood_examples``,
``alpha_ray``, ``fgsm``), computed once and cached on disk, read once per process.
"""

from .callbacks import register
from .compute import State
from .layout import layout

__all__ = ["State", "layout", "register"]
