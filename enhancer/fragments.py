"""HTML fragments remembered in this process under everything they show.

A fragment's key holds every value that decides its HTML, so a remembered fragment is by
construction the one that would be rendered now: nothing is ever invalidated, and another web
host's memory cannot be wrong either. Nothing about access is ever a key: the views check
membership and permissions first, on every request. Used for job cards (enhancer/cards.py) and
the gallery's filters.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.utils.safestring import SafeString, mark_safe


class Remembered:
    def __init__(self, size: int) -> None:
        self.size = size
        self._html: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], str]) -> SafeString:
        with self._lock:
            html = self._html.get(key)
            if html is not None:
                self._html.move_to_end(key)
                return mark_safe(html)  # noqa: S308  (our own templates' output, remembered)
        html = render()
        with self._lock:
            self._html[key] = html
            while len(self._html) > self.size:
                self._html.popitem(last=False)
        return mark_safe(html)  # noqa: S308  (our own templates' output)
