"""Static markup: a block of server-built HTML drawn by one component instead of one per element.

dash-renderer wraps every Dash component in a connected wrapper: each new one subscribes to
the store, renders through an error boundary and a context provider, and announces itself
with a store update that every other wrapper on the page then checks. A click result of
40 small ``html`` elements therefore costs 40 wrappers and 40 page-wide store updates, while
none of those elements is ever an input or output of a callback. :func:`markup` turns such
a tree (``dash.html`` components, ``dbc.Alert``, ``dbc.Table``) into one :class:`Markup`
whose ``tree`` prop is JSONML (``[tag, {attributes}, child, ...]``, strings for text),
drawn by ``assets/markup.js`` with plain React elements. The browser shows the same
elements, classes, styles and ids.

Only a fixed set of tags and attributes is drawn (here and again in the browser); text
is always text (React escapes it). Anything else is a ``TypeError`` here, not a silent gap.
"""

from __future__ import annotations

from typing import Any

from dash import no_update
from dash.development.base_component import Component

from .scripted import Scripted

__all__ = ["ATTRIBUTES", "Markup", "TAGS", "find", "markup", "text", "tree"]

TAGS = frozenset("div span p strong em b i small br ul ol li h1 h2 h3 h4 h5 h6 table thead tbody tfoot tr th td "
                 "code sub sup".split())
"""The elements a tree may hold (``assets/markup.js`` keeps the same list)."""

ATTRIBUTES = frozenset(("className", "style", "id", "title", "role", "colSpan", "rowSpan"))
"""The attributes a tree may set, besides ``aria-*`` and ``data-*``."""

_HTML = "dash_html_components"
_DBC = "dash_bootstrap_components"


class Markup(Scripted):
    """A block of static markup (see the module's docstring).

    Keyword arguments:

    - tree (list; optional): JSONML children: ``[tag, {attributes}, child, ...]`` or a string.
    - id (string; optional)
    - className (string; optional): the block's own class.
    """

    _namespace = "fooling_markup"
    _type = "Markup"
    _PROPS = ("id", "className", "tree")

    def __init__(self, tree: list | None = None, id: str | None = None, className: str | None = None, **kwargs):
        super().__init__(tree=tree, id=id, className=className, **kwargs)


def _allowed(name: str) -> bool:
    return name in ATTRIBUTES or name.startswith(("aria-", "data-"))


def _attributes(c: Component) -> dict:
    # the instance's own attributes are its props as set (read directly: to_plotly_json
    # checks every name against the wildcard prefixes, which costs more than the rest)
    return {k: v for k, v in vars(c).items() if v is not None and _allowed(k)}


def _classes(*names: Any) -> str:
    return " ".join(str(n) for n in names if n)


def _node(c: Component) -> list:
    kids = _children(getattr(c, "children", None))
    attrs = _attributes(c)
    if c._namespace == _HTML and c._type.lower() in TAGS:
        return [c._type.lower(), attrs, *kids]
    if c._namespace == _DBC and c._type == "Alert":
        attrs["className"] = _classes("alert", f"alert-{getattr(c, 'color', None) or 'primary'}",
                                      attrs.get("className"))
        attrs.setdefault("role", "alert")
        return ["div", attrs, *kids]
    if c._namespace == _DBC and c._type == "Table":
        size = getattr(c, "size", None)
        attrs["className"] = _classes(attrs.get("className"), "table", size and f"table-{size}",
                                      getattr(c, "bordered", None) and "table-bordered",
                                      getattr(c, "striped", None) and "table-striped",
                                      getattr(c, "hover", None) and "table-hover")
        return ["table", attrs, *kids]
    raise TypeError(f"{c._namespace}.{c._type} cannot be drawn as static markup")


def _children(node: Any) -> list:
    if node is None or isinstance(node, bool):
        return []
    if isinstance(node, (list, tuple)):
        return [x for item in node for x in _children(item)]
    if isinstance(node, Markup):
        return list(node.tree or [])
    if isinstance(node, Component):
        if node._namespace == _DBC and node._type == "Alert" and getattr(node, "is_open", True) is False:
            return []  # a closed alert shows nothing
        return [_node(node)]
    if isinstance(node, (str, int, float)):
        return [str(node)]
    raise TypeError(f"{type(node).__name__} cannot be drawn as static markup")


def markup(children: Any, **kwargs) -> Any:
    """``children`` (components, strings, lists of them) as one :class:`Markup`; ``kwargs``
    (``id``, ``className``) go to the block itself. ``dash.no_update`` stays ``no_update``, so a
    callback can pass any of its text outputs through."""
    if children is no_update:
        return no_update
    return Markup(tree=tree(children), **kwargs)


def tree(children: Any) -> Any:
    """``children`` as a :class:`Markup`'s ``tree`` (JSONML), for a callback whose output is
    that prop of a block already on the page: the browser then changes one prop instead of
    mounting a new component (and dash-renderer crawling it for ids and callbacks) every time.
    ``dash.no_update`` stays ``no_update``."""
    if children is no_update:
        return no_update
    return _children(children)


def text(node: Any) -> str:
    """The text a tree (a :class:`Markup`, its ``tree``, or one JSONML node) shows: its pieces
    joined by a space where elements meet, runs of white space as one space."""
    return " ".join(" ".join(_texts(node.tree if isinstance(node, Markup) else node)).split())


def _is_element(node: Any) -> bool:
    return isinstance(node, list) and len(node) > 1 and isinstance(node[0], str) and isinstance(node[1], dict)


def _texts(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [t for x in (node[2:] if _is_element(node) else node) for t in _texts(x)]
    return []


def find(node: Any, tag: str | None = None, **attrs) -> list[list]:
    """Every JSONML element of ``node`` with tag ``tag`` (any, when None) and the given attributes
    (``className`` matches one class of the element's)."""
    if isinstance(node, Markup):
        node = node.tree
    found: list[list] = []
    if not isinstance(node, list):
        return found
    is_element = _is_element(node)
    if is_element:
        a = node[1]
        ok = tag is None or node[0] == tag
        for k, v in attrs.items():
            have = a.get(k)
            ok = ok and (v in str(have or "").split() if k == "className" else have == v)
        if ok:
            found.append(node)
    for x in (node[2:] if is_element else node):
        found += find(x, tag, **attrs)
    return found
