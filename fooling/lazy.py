"""Computed-once values that are safe to share between threads.

:class:`cached` works like :func:`functools.cached_property` (the value is stored in
the instance's ``__dict__`` and later reads never call the function again), with one
lock per instance around the first computation, so that two threads of a gthread
worker asking at once compute it once. ``functools.cached_property`` lost its lock
in Python 3.12.

:class:`Memo` is the same for values keyed by arguments: a bounded mapping from keys to
computed values, each built once, the oldest dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Generic, Hashable, TypeVar

__all__ = ["Memo", "cached"]

T = TypeVar("T")
_LOCK = "_cached_lock_"


class cached(Generic[T]):
    """Decorator: a read-only attribute computed on first access, once per instance."""

    def __init__(self, func: Callable[[Any], T]):
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]
        d = obj.__dict__
        if self.name in d:
            return d[self.name]
        lock = d.get(_LOCK)
        if lock is None:
            lock = d.setdefault(_LOCK, threading.RLock())  # setdefault is atomic
        with lock:
            if self.name not in d:
                d[self.name] = self.func(obj)
        return d[self.name]


class Memo(Generic[T]):
    """``build(*key)`` computed once per key (thread-safe), keeping the ``maxsize`` latest keys.

    Parameters
    ----------
    build : callable
        Called with the key's parts; exceptions propagate and nothing is stored.
    maxsize : int, default=256
    """

    def __init__(self, build: Callable[..., T], maxsize: int = 256):
        self.build = build
        self.maxsize = int(maxsize)
        self._values: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.RLock()

    def __call__(self, *key: Hashable) -> T:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            value = self.build(*key)
            self._values[key] = value
            while len(self._values) > self.maxsize:
                self._values.popitem(last=False)
            return value

    def __len__(self) -> int:
        return len(self._values)
