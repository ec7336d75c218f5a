"""Placeholder for the /neurons page (being written)."""

from dash import html

PATH = "/neurons"


def layout(res):
    return html.H1("neurons", className="h4")


def register(app, res):
    return None
