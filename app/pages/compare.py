"""Placeholder for the /compare page (being written)."""

from dash import html

PATH = "/compare"


def layout(res):
    return html.H1("compare", className="h4")


def register(app, res):
    return None
