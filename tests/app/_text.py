"""Helpers shared by the app tests: the text inside a component tree."""

from app.markup import text as markup_text


def texts(node) -> list[str]:
    """Every string inside a component tree, a list of trees, or its JSON form, in order."""
    if node is None or isinstance(node, bool):
        return []
    if isinstance(node, str):
        return [node]
    if isinstance(node, (int, float)):
        return [str(node)]
    if isinstance(node, (list, tuple)):
        return [t for child in node for t in texts(child)]
    if isinstance(node, dict):
        if node.get("type") == "Markup" and isinstance(node.get("props"), dict):  # static markup's JSONML
            return [markup_text(node["props"].get("tree") or [])]
        if "props" in node:
            return texts(node["props"].get("children"))
        return [t for v in node.values() for t in texts(v)]
    if hasattr(node, "to_plotly_json"):
        return texts(node.to_plotly_json())
    return []


def text(node) -> str:
    """All the text of a component tree as one string."""
    return "".join(texts(node))
