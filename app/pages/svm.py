"""Placeholder for the /svm page (being written)."""

from dash import html

PATH = "/svm"


def layout(res):
    return html.H1("svm", className="h4")


def register(app, res):
    return None
