"""gunicorn's settings for Detailer, read automatically when gunicorn starts in this directory.

Only what every deployment needs: an access logger that masks the secrets some of our URLs carry
(webhook tokens, signed source and result URLs, share, invitation and reset links).
"""

logger_class = "detailer_site.gunicorn_logger.MaskingLogger"
