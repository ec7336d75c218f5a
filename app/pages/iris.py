"""Placeholder for the /iris page (being written)."""

from dash import html

PATH = "/iris"


def layout(res):
    return html.H1("iris", className="h4")


def register(app, res):
    return None
