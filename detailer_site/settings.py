"""Detailer's one settings file.

Every value a deployment may change comes from an environment variable read by one of the small
helpers below; each is documented in the README's "Configuration" table. The defaults make
`make run` production-like on one machine: DEBUG off, SQLite in WAL mode in the data directory,
secrets generated once into that directory.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


def env_float(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# Everything this process creates is private to its user: the database and its WAL files, the
# images, the engine's copies, generated secrets (0600 files, 0700 folders). The images are
# served only through the site, never straight from disk, so nobody else needs to read them.
os.umask(0o077)

DATA_DIR = Path(env_str("DETAILER_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)


def make_private(path: Path, mode: int) -> None:
    """Tighten a file or folder made before the umask above (e.g. by an older version)."""
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(mode)
    except PermissionError:  # not ours (e.g. a mounted volume): the deployer decides
        pass


make_private(DATA_DIR, 0o700)


def generated_secret(filename: str, make: callable = lambda: secrets.token_urlsafe(50)) -> str:
    """Read a secret kept in the data directory, creating it (mode 600) on first use.

    Generated once and then kept, so sessions, encrypted keys and signatures survive restarts
    without anyone having to invent a secret for a first install.
    """
    path = DATA_DIR / filename
    if path.exists():
        make_private(path, 0o600)
        return path.read_text().strip()
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


SECRET_KEY = env_str("DJANGO_SECRET_KEY") or generated_secret("secret_key.txt")
# Encrypts team API keys and webhook secrets at rest; the first key encrypts, all decrypt.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])
# Convenient for a first install; `check --deploy` warns, as the key then sits beside the data.
FIELD_ENCRYPTION_KEYS_GENERATED = not FIELD_ENCRYPTION_KEYS
if FIELD_ENCRYPTION_KEYS_GENERATED:
    FIELD_ENCRYPTION_KEYS = [
        generated_secret("field_encryption_key.txt", lambda: Fernet.generate_key().decode())
    ]
DEBUG = env_bool("DJANGO_DEBUG", False)

SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.hostname:
    raise ImproperlyConfigured(f"SITE_URL must be an http(s) URL, not {SITE_URL!r}")
SITE_IS_HTTPS = _site.scheme == "https"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [_site.hostname, "127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "enhancer",
    "enhancer.engine",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the body: an oversized request is refused from its headers.
    "enhancer.uploads.RequestSizeLimit",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "enhancer.middleware.vary_on_htmx",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "detailer_site.urls"
WSGI_APPLICATION = "detailer_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "enhancer.context_processors.current_team",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# SQLite is the embedded default; the web server and the workers write at once, so it runs in WAL
# mode with a busy timeout and IMMEDIATE transactions, or writers would meet "database is locked".
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'detailer.sqlite3'}")
# Each process keeps at most one connection per thread, reused for this many seconds: a web
# process holds up to its thread count, a worker two (its task loop and its heartbeat). So a poll
# does not pay for a new connection and, on SQLite, for the pragmas below. 0 closes it after
# every request (behind a transaction-pooling PgBouncer, say). Health checks replace one that the
# database closed (a PostgreSQL restart) before a request uses it. Nothing about people or teams
# is kept with a connection: every request reads those afresh. See the README's deployment guide
# for max_connections.
DATABASE_CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 60)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=DATABASE_CONN_MAX_AGE, conn_health_checks=True
    )
}
# A reused PostgreSQL connection that served a request less than this many seconds ago is not
# pinged again before the next one (detailer_site/postgresql/base.py); 0 pings every time.
DATABASE_HEALTH_CHECK_IDLE = env_float("DATABASE_HEALTH_CHECK_IDLE", 1.0)
# The statements every page and poll runs are kept prepared on each PostgreSQL connection
# (enhancer/prepared.py); 0 for a connection pooler that cannot keep prepared statements
# (PgBouncer before 1.22, or in transaction mode without max_prepared_statements).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "detailer_site.postgresql"
    if DATABASE_PREPARED_STATEMENTS:
        # psycopg's threshold; only the server-binding cursors of enhancer/prepared.py use it
        # (Django's own cursors bind on the client and never prepare).
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks -------------------------------------------------------------------------
# Django's Tasks API on a database queue. The engine's processing has a queue of its own so a
# long 8x job never delays submitting, polling and collecting; calls to the cloud have one too,
# so a cloud API that hangs never holds up built-in engine work.
TASKS = {
    "default": {
        "BACKEND": env_str("DETAILER_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "cloud", "engine"],
    }
}

# --- Authentication ---------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's, reading each request's user with plain SQL; Django's own stays listed so
    # sessions it made keep working.
    "enhancer.auth_backend.ModelBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Database sessions, read with plain SQL (enhancer/sessions.py): on every request.
SESSION_ENGINE = "enhancer.sessions"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Failed logins are throttled per username *and* address together, with a cool-off rather than
# a lock: one address's failures never lock the account for colleagues elsewhere.
AXES_FAILURE_LIMIT = env_int("DETAILER_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("DETAILER_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address: REMOTE_ADDR, or, for requests from these proxies only, the address they
# report in X-Forwarded-For (enhancer/client_ip.py). Empty: no proxy is trusted.
DETAILER_TRUSTED_PROXIES = env_list("DETAILER_TRUSTED_PROXIES", [])
for _proxy in DETAILER_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(
            "DETAILER_TRUSTED_PROXIES must list IP addresses or networks "
            f"(e.g. 127.0.0.1, 10.0.0.0/8), not {_proxy!r}"
        ) from _exc
AXES_CLIENT_IP_CALLABLE = "enhancer.client_ip.client_ip"

# --- Email ------------------------------------------------------------------------------------
EMAIL_URL = env_str("EMAIL_URL", "console://")
_email = urlsplit(EMAIL_URL)
if _email.scheme == "console":
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
elif _email.scheme in {"smtp", "smtps", "smtp+tls"}:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname or "localhost"
    EMAIL_PORT = _email.port or (465 if _email.scheme == "smtps" else 587)
    EMAIL_HOST_USER = _email.username or ""
    EMAIL_HOST_PASSWORD = _email.password or ""
    EMAIL_USE_SSL = _email.scheme == "smtps"
    EMAIL_USE_TLS = _email.scheme == "smtp+tls"
else:
    raise ImproperlyConfigured(
        f"EMAIL_URL must start with console://, smtp://, smtp+tls:// or smtps://, not {EMAIL_URL!r}"
    )
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"Detailer <noreply@{_site.hostname}>")

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = DATA_DIR / "media"
# Every image goes through Django's storage API: the media directory above by default, or an
# S3-compatible bucket (AWS, MinIO, Ceph, R2, ...) when DETAILER_S3_BUCKET is set, which is what
# lets several web hosts and workers share the files. Credentials come from AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY (or the machine's own AWS role); the bucket stays private: every file is
# served through the site, behind its access checks.
DETAILER_S3_BUCKET = env_str("DETAILER_S3_BUCKET")
DETAILER_S3_ENDPOINT_URL = env_str("DETAILER_S3_ENDPOINT_URL").rstrip("/")
DETAILER_S3_REGION = env_str("DETAILER_S3_REGION", "us-east-1")
if DETAILER_S3_ENDPOINT_URL and urlsplit(DETAILER_S3_ENDPOINT_URL).scheme not in {"http", "https"}:
    raise ImproperlyConfigured(
        f"DETAILER_S3_ENDPOINT_URL must be an http(s) URL, not {DETAILER_S3_ENDPOINT_URL!r}"
    )
if DETAILER_S3_BUCKET:
    _s3_options = {
        "bucket_name": DETAILER_S3_BUCKET,
        "region_name": DETAILER_S3_REGION,
        "endpoint_url": DETAILER_S3_ENDPOINT_URL or None,
        # MinIO, Ceph and most S3-compatible servers want bucket/key paths, not bucket hostnames.
        "addressing_style": "path" if DETAILER_S3_ENDPOINT_URL else None,
        "signature_version": "s3v4",
        "default_acl": None,  # private objects: the bucket's own policy applies
        "querystring_auth": True,
        "file_overwrite": False,  # as on local disk: a taken name gets a suffix, never replaced
        # Reads that do go through django-storages' file object spill to a temporary file
        # past this size instead of growing in memory (downloads stream; see enhancer/storage.py).
        "max_memory_size": 5 * 1024 * 1024,
    }
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": _s3_options,
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Explicit, whatever the umask of the process that writes them.
        "OPTIONS": {"file_permissions_mode": 0o600, "directory_permissions_mode": 0o700},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
        # Public files, outside the data directory: readable by a web server of another user.
        "OPTIONS": {"file_permissions_mode": 0o644, "directory_permissions_mode": 0o755},
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads nothing from it; the token travels in hx-headers
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SITE_IS_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Behind a TLS-terminating proxy, which is how https deployments run gunicorn.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    }
}

# --- Detailer ---------------------------------------------------------------------------------
# A1: the vendor publishes no base URL; this is the default, teams may override it.
DETAILER_API_URL = env_str("DETAILER_API_URL", "https://api.tengr.ai").rstrip("/")
DETAILER_ENGINE_ENABLED = env_bool("DETAILER_ENGINE_ENABLED", True)
DETAILER_ENGINE_URL = env_str("DETAILER_ENGINE_URL", f"{SITE_URL}/engine").rstrip("/")
DETAILER_ENGINE_IMAGE_HOSTS = env_list("DETAILER_ENGINE_IMAGE_HOSTS", [_site.netloc])
# Webhooks go to these hosts (this site by default) or to public addresses, nowhere else.
DETAILER_ENGINE_WEBHOOK_HOSTS = env_list("DETAILER_ENGINE_WEBHOOK_HOSTS", [_site.netloc])
DETAILER_ENGINE_WEBHOOK_SECRET = env_str("DETAILER_ENGINE_WEBHOOK_SECRET") or generated_secret(
    "engine_webhook_secret.txt", lambda: secrets.token_hex(32)
)
DETAILER_ENGINE_MAX_IN_FLIGHT = env_int("DETAILER_ENGINE_MAX_IN_FLIGHT", 8)
# Built-in engine jobs out of our queue at once, site-wide; 0 = two per live engine worker.
DETAILER_ENGINE_CONCURRENCY = env_int("DETAILER_ENGINE_CONCURRENCY", 0)
# Cloud jobs out of our queue at once, per team (each team has its own key and rate limit).
DETAILER_CLOUD_CONCURRENCY = env_int("DETAILER_CLOUD_CONCURRENCY", 4)
# Seconds to wait for the cloud API's answer: short, so a hanging API frees its worker soon.
DETAILER_API_TIMEOUT_SECONDS = env_int("DETAILER_API_TIMEOUT_SECONDS", 15)
# A7: the contract documents no byte limit; the engine still refuses absurd downloads.
DETAILER_ENGINE_MAX_INPUT_BYTES = env_int("DETAILER_ENGINE_MAX_INPUT_MB", 50) * 1024 * 1024
# How long a result URL the engine hands out keeps working; every read of the artwork signs anew.
DETAILER_ENGINE_RESULT_URL_MINUTES = env_int("DETAILER_ENGINE_RESULT_URL_MINUTES", 60)
# Artworks (records, inputs, results) the product never asked the engine to forget are
# removed this long after they finished: the cloud keeps its own 8 days, we need far less.
DETAILER_ENGINE_KEEP_HOURS = env_int("DETAILER_ENGINE_KEEP_HOURS", 24)
# "learned" (a small CNN in enhancer/engine/weights/, run by onnxruntime) or "classical".
DETAILER_ENGINE_CORE = env_str("DETAILER_ENGINE_CORE", "learned")
# CPU threads one engine job may use (onnxruntime's intra-op pool).
DETAILER_ENGINE_THREADS = env_int("DETAILER_ENGINE_THREADS", 2)
# Finished background-task records (arguments, results, errors) are deleted after this long.
DETAILER_TASK_RETENTION_DAYS = env_int("DETAILER_TASK_RETENTION_DAYS", 7)
# A job with no result after this long is failed with a reason instead of polled forever.
DETAILER_JOB_MAX_AGE_MINUTES = env_int("DETAILER_JOB_MAX_AGE_MINUTES", 120)
# A3: where the cloud puts its webhook signature is undocumented; the engine uses X-Signature.
DETAILER_WEBHOOK_SIGNATURE_HEADER = env_str("DETAILER_WEBHOOK_SIGNATURE_HEADER", "X-Signature")
# Optional retention (off with 0): results (with thumbnails) and originals of jobs that ended
# this many days ago are deleted from storage; the job records stay. See enhancer/retention.py.
DETAILER_DELETE_RESULTS_AFTER_DAYS = env_int("DETAILER_DELETE_RESULTS_AFTER_DAYS", 0)
DETAILER_DELETE_ORIGINALS_AFTER_DAYS = env_int("DETAILER_DELETE_ORIGINALS_AFTER_DAYS", 0)
# 160 MB holds a 50-megapixel PNG of a noisy photo (8160 x 6120 x 3 bytes = 150 MB at worst);
# images are decoded and checked in a worker, never in the web request.
DETAILER_MAX_UPLOAD_BYTES = env_int("DETAILER_MAX_UPLOAD_MB", 160) * 1024 * 1024
# One request (a batch of uploads) at most; refused with 413 before its body is read.
DETAILER_MAX_REQUEST_BYTES = env_int("DETAILER_MAX_REQUEST_MB", 200) * 1024 * 1024
# Files one request may carry (Django's own default of 100 would answer a bare 400 to a folder
# of 200 photos); the form checks it too, and says so in words.
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("DETAILER_MAX_FILES_PER_REQUEST", 500)
DETAILER_MAX_RESULT_BYTES = env_int("DETAILER_MAX_RESULT_MB", 512) * 1024 * 1024
# Hosts the SSRF guard lets through even though they resolve to non-public addresses.
# Only for tests and closed networks: leave empty in production.
DETAILER_SSRF_ALLOW_HOSTS = env_list("DETAILER_SSRF_ALLOW_HOSTS", [])

# Content Credentials (C2PA). Without a certificate of the operator's, the site makes a CA and
# a signer under it in DATA_DIR/c2pa/ once (see enhancer/provenance/signing.py).
DETAILER_C2PA_CERT_FILE = env_str("DETAILER_C2PA_CERT_FILE")
DETAILER_C2PA_KEY_FILE = env_str("DETAILER_C2PA_KEY_FILE")
DETAILER_C2PA_ALGORITHM = env_str("DETAILER_C2PA_ALGORITHM", "es256").lower()
if DETAILER_C2PA_ALGORITHM not in {"es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519"}:
    raise ImproperlyConfigured(
        "DETAILER_C2PA_ALGORITHM must be es256, es384, es512, ps256, ps384, ps512 or ed25519, "
        f"not {DETAILER_C2PA_ALGORITHM!r}"
    )
DETAILER_C2PA_TSA_URL = env_str("DETAILER_C2PA_TSA_URL")
DETAILER_C2PA_ORGANIZATION = env_str("DETAILER_C2PA_ORGANIZATION", "Detailer")
DETAILER_C2PA_DIR = DATA_DIR / "c2pa"
# Automatic result checks: limits for results from the cloud. Empty = the limits measured on the
# built-in engine for the job's Detail and Change levels (see enhancer/result_checks.py).
DETAILER_CHECK_CLOUD_MAX_COLOUR_SHIFT = env_float("DETAILER_CHECK_CLOUD_MAX_COLOUR_SHIFT", None)
DETAILER_CHECK_CLOUD_MIN_SSIM = env_float("DETAILER_CHECK_CLOUD_MIN_SSIM", None)

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Every uploaded file streams to a temporary file, and one over DETAILER_MAX_UPLOAD_MB is
# dropped as it arrives: an upload never sits in the web process's memory.
FILE_UPLOAD_HANDLERS = ["enhancer.uploads.SizeLimitedUploadHandler"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Some URLs are credentials (webhook tokens, signed links): "Not Found: /hooks/…" and the
    # like are logged with the secret part masked.
    "filters": {"mask_secrets": {"()": "detailer_site.log_masking.MaskSecretsFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django_tasks_db": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # libvips reports every thread pool it finishes at INFO.
        "pyvips": {"level": "WARNING"},
        # Django's own handlers (a debug-only console, runserver's request log) would print
        # paths unmasked: everything goes through the one masked handler above instead.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
