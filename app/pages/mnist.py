"""Placeholder for the /mnist page (being written)."""

from dash import html

PATH = "/mnist"


def layout(res):
    return html.H1("mnist", className="h4")


def register(app, res):
    return None
