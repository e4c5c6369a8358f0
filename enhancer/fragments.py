"""HTML fragments remembered in this process under everything they show.

A fragment's key holds every value that decides its HTML, so a remembered fragment is by
construction the one that would be rendered now: nothing is ever invalidated, and another web
host's memory cannot be wrong either. Nothing about access is ever a key: the views check
membership and permissions first, on every request. Used for job cards and the dashboard's list
of them (enhancer/cards.py) and the gallery's filters.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.utils.safestring import SafeString, mark_safe

T = TypeVar("T")


class Remembered:
    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], str]) -> SafeString:
        """HTML remembered under `key`, rendered by `render` when it is not."""
        return mark_safe(self.get_value(key, render))  # noqa: S308  (our own templates' output)

    def get_value(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
                return value
        value = make()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value
