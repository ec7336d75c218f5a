"""Dash components drawn by the page's own scripts in ``assets/`` (no built bundle).

A component that Dash's generator did not write declares its props by hand: Dash checks
every keyword against ``_prop_names`` and the wildcard prefixes, and sends only the props
that are set. :class:`Scripted` names them once (``_PROPS``) and drops the ones given as
None, so a subclass says only what it is: its namespace and type (``window[namespace][type]``
in the browser), its props and its docstring.
"""

from __future__ import annotations

from dash.development.base_component import Component

__all__ = ["Scripted"]


class Scripted(Component):
    """Base of the components drawn by ``assets/`` scripts: props named once in ``_PROPS``,
    None arguments left out (as Dash's generated components leave them out)."""

    _children_props: list = []
    _base_nodes = ["children"]
    _PROPS: tuple[str, ...] = ()

    def __init__(self, **props):
        self._prop_names = list(self._PROPS)
        self._valid_wildcard_attributes = []
        self.available_properties = list(self._PROPS)
        self.available_wildcard_properties = []
        # a declared prop given as None is left out; anything else goes to Dash, which refuses
        # what is not declared
        super().__init__(**{k: v for k, v in props.items() if v is not None or k not in self._PROPS})
