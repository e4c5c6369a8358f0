"""The site's own settings plus a bare view, for the web benchmark only.

Everything a request meets (middleware, sessions, database options, static files) is the
production configuration; only the URLs gain `/bench/bare/` and the test client's host is let in
(the benchmark counts each page's SQL queries with it).
"""

from __future__ import annotations

from detailer_site.settings import *  # noqa: F403

ROOT_URLCONF = "enhancer.webbench.urls"
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
