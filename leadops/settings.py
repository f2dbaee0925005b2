"""Settings for leadops: one module, configured by environment variables.

Two ways to run, one code base:

* embedded (default): no ``DATABASE_URL`` → a SQLite file beside the code, and Celery tasks run
  in-process (eager) unless ``REDIS_URL`` is set.
* real: ``DATABASE_URL=postgres://…`` and ``REDIS_URL=redis://…`` with a Celery worker and beat.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-dev-key-only-for-the-embedded-demo"
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

# Behind TLS (DJANGO_HTTPS=1): redirect plain HTTP, send cookies over HTTPS only, and ask browsers to keep to
# HTTPS (HSTS, DJANGO_HSTS_SECONDS, a year by default). Off on a laptop, where the dev server speaks HTTP.
# Behind a proxy that ends TLS, DJANGO_PROXY_SSL_HEADER names the header it sets (e.g. X-Forwarded-Proto), so
# a proxied request counts as secure and the redirect does not loop.
HTTPS = env_bool("DJANGO_HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 24 * 60 * 60))) if HTTPS else 0
# Only when every subdomain is served over HTTPS too (and, for preload, the domain is to be listed in browsers).
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS and env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = HTTPS and env_bool("DJANGO_HSTS_PRELOAD", False)
if proxy_header := os.environ.get("DJANGO_PROXY_SSL_HEADER", ""):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + proxy_header.upper().replace("-", "_"), "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "import_export",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "campaigns",
    "suppressions",
    "suppressions.crm",
    "campaigns.imports",
    "leadops.outbox",
    "leadops.signin_security.SignInSecurityConfig",  # django-axes, named "Sign-in security"
]

MIDDLEWARE = [
    # First, so that it sees every answer under /api/v1/, whoever made it: each is JSON in the API's error shape.
    "campaigns.dialer.api.errors.ApiErrorsAsJson",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadops.urls"
WSGI_APPLICATION = "leadops.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'leadops.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent readers while the in-process worker writes; wait instead of failing on a lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"})
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Django's, with the library's real parameter limit: bulk inserts stay one statement per batch.
    DATABASES["default"]["ENGINE"] = "leadops.backends.sqlite3"
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short OLTP statements whose estimates can look big: JIT compiling them costs more than it saves.
    # Statements run through leadops.db.prepared_cursor (the dialer's hot path) are prepared on their first
    # run in each connection and planned once: they look rows up by key, so no parameter changes the best
    # plan (PostgreSQL would otherwise re-plan a statement like ``id = ANY($1)`` on every run). Django's own
    # cursors bind on the client and are never prepared, so neither setting touches them.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", "-c jit=off -c plan_cache_mode=force_generic_plan"
    )
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 0)
    # psycopg's server_side_binding (Django's own cursors binding on the server, so that prepared_cursor
    # could be Django's cursor) was tried and is not used. With prepare_threshold 0, migrate fails ("cannot
    # insert multiple commands into a prepared statement": the schema editor sends several at once); with
    # any threshold above 0 every ORM statement run that often on a connection is prepared and planned by
    # force_generic_plan, which only the hot path's key look-ups are written for, and the hot path is no
    # longer prepared from its first run. It bought nothing: the dial check's statement 0.18 ms median
    # either way (bench/dial_check.py, DEBUG off, threshold 5), in-process pulls 1.36 ms against 1.33 ms
    # and dial checks 0.30 ms either way (medians of nine rotated runs), while an upload of 300,000 rows
    # (bench/suppressions.py) took 4.09 s against 3.59 s (medians of three; slower in each run).

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "campaigns.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# Uploaded files live outside any web root, under random names (see suppressions.models).
MEDIA_ROOT = Path(os.environ.get("LEADOPS_MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media-not-served/"

LOGIN_URL = "admin:login"

# --- Logins: throttled by django-axes (admin and portal alike) -----------------------------------
# Axes first: it refuses a locked-out username+IP before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
# Username and IP together: a typo-prone colleague behind the same NAT does not lock everyone else out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/locked_out.html"
AXES_VERBOSE = False  # no start-up banner in every command's output
# Password-reset mail goes to the console in development; production sets a real backend.
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "leadops <no-reply@leadops.invalid>")

# --- Celery -------------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# (The in-memory transport's host named, or kombu warns "No hostname was supplied" at every task sent.)
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
# Without a broker the tasks run in-process, so the embedded demo needs no services.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# Matching and imports are idempotent, so a task whose worker died is re-delivered, not lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
# Longer than the longest task, so Redis does not hand a running task to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Heavy work has a queue of its own, so a worker (or host) can be given to each: a million-row lead import
# on "imports" never delays a suppression upload ("uploads") or its matching ("matching"). The light jobs of
# beat (sweeps, waking leads, the outbox) stay on the default queue. A worker started without -Q consumes
# every queue below; ``-Q matching,uploads`` only those (README: "Workers per queue").
LEADOPS_QUEUES = ("celery", "uploads", "matching", "imports", "crm")
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue(name) for name in LEADOPS_QUEUES]
CELERY_TASK_ROUTES = {
    "suppressions.tasks.upload_process": {"queue": "uploads"},
    "suppressions.tasks.upload_match": {"queue": "matching"},
    "suppressions.tasks.customer_rematch": {"queue": "matching"},
    "suppressions.tasks.rematch_all": {"queue": "matching"},
    "imports.*": {"queue": "imports"},
    "crm.*": {"queue": "crm"},
}
CELERY_BEAT_SCHEDULE = {
    # Every minute: leads whose cool-down, callback or lease has run out return to the pool.
    "wake-waiting-leads": {
        "task": "campaigns.tasks.leads_wake_waiting",
        "schedule": timedelta(minutes=1),
    },
    # Every five minutes: blocks whose end has passed are lifted by expiry and their leads recomputed (the
    # readers honour an end at read time already; this makes the record and the stored statuses say so).
    "expire-blocks": {
        "task": "campaigns.tasks.blocks_expire",
        "schedule": timedelta(minutes=5),
    },
    # Every five minutes: CRM events stored while the broker was unreachable are processed after all.
    "crm-sweep-pending": {
        "task": "crm.sweep_pending",
        "schedule": timedelta(minutes=5),
    },
    # Nightly at 02:30 UTC, when no one uploads: rematch every active suppression entry of every customer
    # (one task per customer, batches that each commit), catching anything an upload's own match missed; then
    # check every lead's stored status against its blocks and repair (and log) any drift (check_statuses).
    "suppressions-rematch-all": {
        "task": "suppressions.tasks.rematch_all",
        "schedule": crontab(hour=2, minute=30),
    },
    # Nightly at 04:00 UTC, after the rematch and the status check: rebuild every customer's lead report
    # facts (campaigns.services.reporting), so the report's figures are at most a day old.
    "lead-facts-rebuild": {
        "task": "campaigns.tasks.lead_facts_rebuild",
        "schedule": crontab(hour=4, minute=0),
    },
    # Every minute: uploads whose reader died (its heartbeat stopped: a worker killed, a machine lost) or
    # whose message was lost are enqueued again; a claim on the upload keeps a second reader out.
    "suppressions-sweep-uploads": {
        "task": "suppressions.tasks.uploads_sweep",
        "schedule": timedelta(minutes=1),
    },
    # Daily at 03:10 UTC: the dialer's verdicts get their monthly partitions three months ahead (PostgreSQL), so
    # none ever lands in the default partition.
    "verdicts-partitions-ensure": {
        "task": "campaigns.tasks.verdict_partitions_ensure",
        "schedule": crontab(hour=3, minute=10),
    },
    # Every minute: tasks enqueued on commit while the broker was unreachable are published after all.
    "outbox-send-pending": {
        "task": "outbox.send_pending",
        "schedule": timedelta(minutes=1),
    },
}
# An upload's processing writes a heartbeat this often; a claim whose heartbeat is older than the stale age
# belongs to a dead reader, and the sweeper (every minute) runs the upload again.
SUPPRESSIONS_HEARTBEAT_SECONDS = int(os.environ.get("SUPPRESSIONS_HEARTBEAT_SECONDS", "10"))
SUPPRESSIONS_HEARTBEAT_STALE_SECONDS = int(os.environ.get("SUPPRESSIONS_HEARTBEAT_STALE_SECONDS", "45"))
# A suppression file up to this size is read in the web request, so it is in force when the customer is
# told "received"; a larger one is read by a worker and holds its customer's calls until then.
SUPPRESSIONS_SYNC_READ_MAX_BYTES = int(os.environ.get("SUPPRESSIONS_SYNC_READ_MAX_BYTES", str(1024 * 1024)))

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "leadops dialer API",
    "VERSION": "1.0.0",
}

# --- django-import-export -------------------------------------------------------------------------
# Open to every staff user unless set: exporting needs the model's view permission, importing its add.
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"

# --- leadops ------------------------------------------------------------------------------------
# Admin list pages never count a million-row table on every load.
LEADOPS_ADMIN_COUNT_LIMIT = 10_000
# A searched list counts at most this many rows ("more than 1,000 leads"): leadops/pagination.py.
LEADOPS_SEARCH_COUNT_LIMIT = 1_000
# Minutes a pulled lead stays leased to its caller before the wake job returns it to the pool.
LEADOPS_LEASE_MINUTES = int(os.environ.get("LEADOPS_LEASE_MINUTES", "15"))
# Years the dialer's verdicts are kept in the live table (the Telemarketing Sales Rule keeps call and
# do-not-call records for 5): older whole months may be detached (``manage.py verdicts_retention --detach``).
LEADOPS_VERDICT_RETENTION_YEARS = int(os.environ.get("LEADOPS_VERDICT_RETENTION_YEARS", "5"))
# Whether consumer dial checks refuse while no national Do-Not-Call registry copy was ever loaded. Off, the ops
# home says consumer campaigns are not scrubbed against any registry; once a copy is loaded this no longer
# matters: a copy older than 31 days refuses every consumer dial check (``suppressions.registries``).
LEADOPS_REGISTRY_REQUIRED = os.environ.get("LEADOPS_REGISTRY_REQUIRED", "0") == "1"
# Largest suppression file a customer may upload in the portal (bytes).
LEADOPS_PORTAL_UPLOAD_MAX_BYTES = int(os.environ.get("LEADOPS_PORTAL_UPLOAD_MAX_BYTES", str(50 * 1024 * 1024)))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Tasks run in-process (the embedded default, the demo): a line per task that succeeded would come between
    # what the command says; failures are still logged. A real worker logs each task as Celery does.
    "loggers": {"celery.app.trace": {"level": "WARNING"}} if CELERY_TASK_ALWAYS_EAGER else {},
}
