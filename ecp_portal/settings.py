"""ECP Portal settings — one module, driven by the environment.

With no environment at all the project runs on an embedded default (SQLite
file under var/, Celery eager, local-memory cache, console SMS provider,
DEBUG on, a generated development secret) so that ``make run`` works on a
bare machine. The environment switches it to the real services:

    DJANGO_ENV=production   production mode (refuses unsafe configuration)
    DATABASE_URL            postgres://user@host:5432/name
    REDIS_URL               redis://host:6379/0 (cache, and broker by default)
    CELERY_BROKER_URL       overrides the broker taken from REDIS_URL
    SECRET_KEY, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, PUBLIC_BASE_URL

See .env.example and docs/operations.md for every key.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DEBUG", default=not PRODUCTION)

# --- secret key -------------------------------------------------------------
# In development a random key is generated once per checkout and kept in
# var/dev-secret-key (git-ignored). Production refuses it.
DEV_SECRET_PREFIX = "dev-insecure-"  # noqa: S105 (a marker production refuses, not a secret)


def _dev_secret() -> str:
    path = VAR_DIR / "dev-secret-key"
    if not path.is_file():
        VAR_DIR.mkdir(exist_ok=True)
        path.write_text(DEV_SECRET_PREFIX + secrets.token_urlsafe(48))
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or ("" if PRODUCTION else _dev_secret())
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public address callers (Twilio, browsers) use; webhook signatures are checked against it.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")

# --- applications -----------------------------------------------------------
INITIATIVE_APPS = [
    "recruitment",
    "complaints",
    "sms",
    "ivr",
    "results",
    "scrutiny",
    "hrms",
    "omr",
    "evp",
]

INSTALLED_APPS = [
    "core.apps.CoreConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_celery_beat",
    "axes",
    *[f"{name}.apps.{name.capitalize()}Config" for name in INITIATIVE_APPS],
]

MIDDLEWARE = [
    "core.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.AuditUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ecp_portal.urls"
WSGI_APPLICATION = "ecp_portal.wsgi.application"
ASGI_APPLICATION = "ecp_portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
_DB_ENGINE = DATABASES["default"]["ENGINE"]
USING_POSTGRES = _DB_ENGINE == "django.db.backends.postgresql"
if USING_POSTGRES:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's default random_page_cost (4) prices spinning disks: on SSDs it makes the planner scan all
    # 180,000 Form-45s (20 ms) instead of looking up one contest's few hundred (0.7 ms). docs/operations.md.
    # Empty = leave it to the server (behind PgBouncer, which refuses startup options: ALTER DATABASE … SET).
    if _page_cost := env.str("PG_RANDOM_PAGE_COST", default="1.1"):
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", f"-c random_page_cost={float(_page_cost)}")
elif _DB_ENGINE == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # WAL lets readers go on while one writer writes; a short wait beats "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            # Writers take the lock when their transaction begins, not half-way through it.
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache and broker -------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ecp"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# Celery's Django fix-up closes the database connection around every task unless told otherwise: a worker
# reading 70,000 OMR sheets would open 70,000 connections. Keep one for this many tasks (0: close each time).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=100)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
# A key prefix keeps several environments (or concurrent test runs) apart on one Redis.
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"global_keyprefix": env.str("CELERY_KEY_PREFIX")} if env.str("CELERY_KEY_PREFIX", default="") else {}
)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Tasks are named "<app>.<what>"; the sms and omr apps get queues of their own.
CELERY_TASK_ROUTES = {"sms.*": {"queue": "sms"}, "omr.*": {"queue": "omr"}}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Asia/Karachi"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Synced into the database by the scheduler at start; editable in the admin afterwards.
CELERY_BEAT_SCHEDULE = {
    "sms-sweep": {"task": "sms.sweep", "schedule": 30.0},
    "evp-lookup-counts": {"task": "evp.lookup_counts_flush", "schedule": 60.0},
    "complaints-sla-sweep": {
        "task": "complaints.sla_sweep",
        "schedule": env.float("COMPLAINTS_SWEEP_SECONDS", default=60.0),
    },
}

# --- auth, two factors, lockout ---------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:staff_login"
LOGIN_REDIRECT_URL = "core:staff_home"
LOGOUT_REDIRECT_URL = "core:home"
OTP_TOTP_ISSUER = "ECP Portal"
# The admin never shows authenticator keys or backup codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Seeded demo accounts may skip the second factor, and only while DEBUG is on;
# production forces DEBUG off, so there they never can.
OTP_DEMO_SKIP = DEBUG and not PRODUCTION and env.bool("OTP_DEMO_SKIP", default=True)

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "core/staff/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)

# --- internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ur", _("Urdu"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Karachi"
USE_I18N = True
USE_TZ = True

# --- static and media -------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Largest CSV a staff member may upload through the web (imports of a whole
# national scheme go through the management command).
MAX_IMPORT_UPLOAD_BYTES = env.int("MAX_IMPORT_UPLOAD_BYTES", default=50 * 1024 * 1024)

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "core.api_base.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_RATE", default="120/minute"),
        "user": env.str("API_USER_RATE", default="2000/minute"),
    },
    "EXCEPTION_HANDLER": "core.api_base.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "NUM_PROXIES": env.int("PROXY_COUNT", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ECP Portal API",
    "DESCRIPTION": "Election Commission of Pakistan portal — version 1. Errors share one shape: "
    '{"code", "message", "fields"}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- results (configurable rules; see ../shared/DOMAIN.md) --------------------
# Recount eligibility, s.95(5): margin below `percent` % of votes polled or below
# `absolute` votes, whichever is less — per house. Check the figures against
# the Elections Act as amended before each election.
RESULTS_RECOUNT_RULES = {
    "NA": {
        "percent": env.float("RECOUNT_NA_PERCENT", default=5.0),
        "absolute": env.int("RECOUNT_NA_VOTES", default=10000),
    },
    "PA": {
        "percent": env.float("RECOUNT_PA_PERCENT", default=5.0),
        "absolute": env.int("RECOUNT_PA_VOTES", default=5000),
    },
}
RESULTS_TURNOUT_WARNING = env.float("RESULTS_TURNOUT_WARNING", default=0.80)
RESULTS_WOMEN_MIN_SHARE = env.float("RESULTS_WOMEN_MIN_SHARE", default=0.10)
# Form-45 pictures (results/forensics.py, docs/results-photos.md). Flags inform the RO; they decide nothing.
# Farther than this from the station's coordinates (EXIF GPS) → photo.far_from_station.
RESULTS_PHOTO_RADIUS_M = env.int("RESULTS_PHOTO_RADIUS_M", default=1000)
# Taken more than this many hours before the server received it → photo.taken_long_before_receipt.
RESULTS_PHOTO_MAX_AGE_HOURS = env.float("RESULTS_PHOTO_MAX_AGE_HOURS", default=12.0)
# Perceptual hashes (64 bits) this close to another station's picture → photo.near_duplicate. A resized or
# recompressed copy (what messaging apps send) lands at 0-2; photos of two different forms of the one printed
# template were never closer than 6 in our trials. Raising it catches more and mislabels more.
RESULTS_PHOTO_PHASH_DISTANCE = env.int("RESULTS_PHOTO_PHASH_DISTANCE", default=4)
# Larger files are refused (keep the proxy's request body limit a little above it).
RESULTS_PHOTO_MAX_BYTES = env.int("RESULTS_PHOTO_MAX_BYTES", default=15 * 1024 * 1024)
# Pictures declaring more pixels are refused before decoding (decompression bombs); phones write 12-50 MP.
RESULTS_PHOTO_MAX_PIXELS = env.int("RESULTS_PHOTO_MAX_PIXELS", default=50_000_000)
# Live public results (results/live.py): a stale page is rebuilt at most this often (seconds), and the
# pages ask for news this often (milliseconds). A newly accepted form shows within about their sum.
RESULTS_LIVE_REBUILD_SECONDS = env.int("RESULTS_LIVE_REBUILD_SECONDS", default=1)
RESULTS_LIVE_POLL_MS = env.int("RESULTS_LIVE_POLL_MS", default=3000)
# National result files (results/exports.py): rebuilt by a worker at most this often after a publication;
# a download that finds no file for the current revision builds it (others wait this long, then get a 503).
RESULTS_EXPORT_INTERVAL_SECONDS = env.int("RESULTS_EXPORT_INTERVAL_SECONDS", default=60)
RESULTS_EXPORT_WAIT_SECONDS = env.float("RESULTS_EXPORT_WAIT_SECONDS", default=25)
RESULTS_EXPORT_LOCK_SECONDS = env.int("RESULTS_EXPORT_LOCK_SECONDS", default=900)

# Electoral roll and the 8300 lookup (evp/, docs/evp.md). Per sender (phone or IP) and per CNIC, lookups in a
# fixed window; a sender asking for more different CNICs than EVP_ABUSE_DISTINCT_CNICS in the abuse window is
# blocked for EVP_ABUSE_BLOCK_SECONDS and listed for staff.
EVP_CLIENT_LIMIT = env.int("EVP_CLIENT_LIMIT", default=20)
EVP_CLIENT_WINDOW_SECONDS = env.int("EVP_CLIENT_WINDOW_SECONDS", default=600)
EVP_CNIC_LIMIT = env.int("EVP_CNIC_LIMIT", default=10)
EVP_CNIC_WINDOW_SECONDS = env.int("EVP_CNIC_WINDOW_SECONDS", default=3600)
EVP_ABUSE_DISTINCT_CNICS = env.int("EVP_ABUSE_DISTINCT_CNICS", default=25)
EVP_ABUSE_WINDOW_SECONDS = env.int("EVP_ABUSE_WINDOW_SECONDS", default=86_400)
EVP_ABUSE_BLOCK_SECONDS = env.int("EVP_ABUSE_BLOCK_SECONDS", default=86_400)
EVP_COUNTER_PREFIX = env.str("EVP_COUNTER_PREFIX", default="evp:")  # Redis keys of the counters
EVP_HASH_KEY = env.str("EVP_HASH_KEY", default="")  # keys the hashes of CNICs and senders; empty: SECRET_KEY

# Complaints (issue 7): the key of the ticket numbers' permutation. Keep it for good: numbers made with another
# key can collide with this year's earlier ones (the database refuses them). Empty: SECRET_KEY.
COMPLAINTS_TICKET_KEY = env.str("COMPLAINTS_TICKET_KEY", default="")
COMPLAINTS_MAX_ATTACHMENTS = env.int("COMPLAINTS_MAX_ATTACHMENTS", default=3)
COMPLAINTS_ATTACHMENT_MAX_BYTES = env.int("COMPLAINTS_ATTACHMENT_MAX_BYTES", default=5 * 1024 * 1024)
COMPLAINTS_ATTACHMENT_MAX_PIXELS = env.int("COMPLAINTS_ATTACHMENT_MAX_PIXELS", default=40_000_000)
COMPLAINTS_REOPEN_DAYS = env.int("COMPLAINTS_REOPEN_DAYS", default=14)
# Public pages: filings (codes asked for) per address per hour, and tracking attempts per address per 10 minutes.
COMPLAINTS_FILINGS_PER_IP_HOUR = env.int("COMPLAINTS_FILINGS_PER_IP_HOUR", default=10)
COMPLAINTS_TRACKING_PER_IP = env.int("COMPLAINTS_TRACKING_PER_IP", default=20)

# --- outside services -------------------------------------------------------
# SMS (sms/, docs/sms.md). Provider: console (writes to the log), memory (tests), twilio, smpp.
SMS_PROVIDER = env.str("SMS_PROVIDER", default="console")
# Messages per second through the provider, shared by every worker (a Redis token bucket); 0 = no limit.
SMS_RATE_PER_SECOND = env.int("SMS_RATE_PER_SECOND", default=100)
SMS_PRICE_PER_SEGMENT = env.str("SMS_PRICE_PER_SEGMENT", default="0.50")  # rupees, for campaign estimates
SMS_CHUNK_SIZE = env.int("SMS_CHUNK_SIZE", default=200)  # messages a dispatcher claims at once
SMS_DISPATCHERS = env.int("SMS_DISPATCHERS", default=2)  # dispatch tasks working on one campaign at once
SMS_SEND_THREADS = env.int("SMS_SEND_THREADS", default=4)  # hand-overs in flight per dispatch task
# A claimed message is the claimer's this long; after that the sweep asks the provider what became of it.
SMS_LEASE_SECONDS = env.int("SMS_LEASE_SECONDS", default=120)
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=5)
SMS_EXPIRY_HOURS = env.int("SMS_EXPIRY_HOURS", default=24)  # default "too old to send" after the send time
SMS_CONTACTS_MAX_ROWS = env.int("SMS_CONTACTS_MAX_ROWS", default=100_000)
# Inbound: at most this many messages per sender per window (seconds); larger request bodies are refused.
SMS_INBOUND_PER_SENDER = env.int("SMS_INBOUND_PER_SENDER", default=10)
SMS_INBOUND_WINDOW_SECONDS = env.int("SMS_INBOUND_WINDOW_SECONDS", default=600)
SMS_INBOUND_MAX_BYTES = env.int("SMS_INBOUND_MAX_BYTES", default=8192)
# How inbound messages are answered: "message" (a Message through message_send and a worker, tracked to its
# delivery report) or "twiml" (in the webhook's own answer: no Message row, no worker, no second call to the
# provider; for a short code answering at national peak, such as 8300). docs/sms.md.
SMS_INBOUND_REPLY = env.str("SMS_INBOUND_REPLY", default="message")
# One-time codes (sms.services.otp_send / otp_verify): digits, life, wrong tries allowed, codes per number per window.
SMS_OTP_DIGITS = env.int("SMS_OTP_DIGITS", default=6)
SMS_OTP_TTL_SECONDS = env.int("SMS_OTP_TTL_SECONDS", default=300)
SMS_OTP_MAX_ATTEMPTS = env.int("SMS_OTP_MAX_ATTEMPTS", default=5)
SMS_OTP_PER_PHONE = env.int("SMS_OTP_PER_PHONE", default=3)
SMS_OTP_WINDOW_SECONDS = env.int("SMS_OTP_WINDOW_SECONDS", default=900)
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="")  # empty: api.twilio.com; a local double otherwise
SMPP_HOST = env.str("SMPP_HOST", default="127.0.0.1")
SMPP_PORT = env.int("SMPP_PORT", default=2775)
SMPP_SYSTEM_ID = env.str("SMPP_SYSTEM_ID", default="")
SMPP_PASSWORD = env.str("SMPP_PASSWORD", default="")
SMPP_SOURCE_ADDR = env.str("SMPP_SOURCE_ADDR", default="ECP")

# --- logging ----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "core.middleware.RequestContextLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_context"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- security ---------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env.bool("BEHIND_TLS_PROXY", default=PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if PRODUCTION:
    problems = []
    if not SECRET_KEY or SECRET_KEY.startswith(DEV_SECRET_PREFIX) or len(set(SECRET_KEY)) < 5 or len(SECRET_KEY) < 50:
        problems.append("SECRET_KEY must be set to a long random value (50+ characters), not the development secret")
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must name the hosts this site answers for")
    if not USING_POSTGRES:
        problems.append("DATABASE_URL must point at PostgreSQL; SQLite is for development and offline laptops only")
    if DEBUG:
        problems.append("DEBUG must be off")
    if problems:
        raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(problems) + ".")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
