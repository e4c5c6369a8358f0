"""gunicorn's logger with secrets masked in every access-log field (see log_masking.py).

gunicorn.conf.py sets it as `logger_class`, so `gunicorn detailer_site.wsgi` run from the project
directory, and `manage.py serve`, both use it.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from detailer_site.log_masking import MaskSecretsFilter, mask_secrets


class MaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        # Every text field: the request line, path, query and headers such as Referer, which
        # carries a share page's URL when someone clicks on from it.
        return {
            name: mask_secrets(value) if isinstance(value, str) else value
            for name, value in super().atoms(resp, req, environ, request_time).items()
        }

    def setup(self, cfg) -> None:
        super().setup(cfg)
        # gunicorn's error log can quote a request line too (e.g. for an invalid request).
        self.error_log.addFilter(MaskSecretsFilter())
