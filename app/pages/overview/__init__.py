"""/ — what the app demonstrates, a card per page, every model's score beside the essay's."""

from .layout import State, layout, register

__all__ = ["State", "layout", "register"]
