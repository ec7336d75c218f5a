"""/compare — how far confidence reaches, for every model, and two remedies.

Numbers come from :class:`fooling.analysis.WorkspaceAnalysis` (fooling rates,
confidence against distance, confidence/density maps), computed once and cached on disk;
the density map of one model is counted on the very grid the table's last disc is
counted on.
"""

from .callbacks import register
from .compute import State
from .layout import layout

__all__ = ["State", "layout", "register"]
