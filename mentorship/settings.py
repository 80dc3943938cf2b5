"""Settings, all read from the environment (see README's configuration table).

DEBUG is off unless set: `make run`, `make test` and .env.example set DEBUG=true for
development. Other defaults suit a machine with no servers installed: SQLite under
var/, a filesystem Celery broker, a file cache under var/cache (shared by all
processes, so login limits hold across gunicorn workers), console e-mail and the
local Stripe server. With DEBUG off, secrets have no defaults and the app refuses
to start without them.
"""

from datetime import timedelta
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from mentorship import error_tracking, media_storage

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)  # secure by default: development says DEBUG=true


def _secret(name: str, development_default: str) -> str:
    """A secret: a default for development, none when DEBUG is off."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return development_default
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is off.")


SECRET_KEY = _secret("DJANGO_SECRET_KEY", "django-insecure-development-only-key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")  # for links in e-mails
# Where people write when something goes wrong: shown on the error pages.
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", default="support@mentorship.localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "csp",
    "allauth.mfa",  # staff sign in with a second factor (TOTP and recovery codes)
    "anymail",  # e-mail through a provider (EMAIL_PROVIDER) and its webhooks; its system checks
    "mentorship",
    "bookings",
    "payments",
    "notifications",
]

MIDDLEWARE = [
    "mentorship.health.HealthCheckMiddleware",  # /healthz, /readyz: before host checks, redirects, sessions
    "mentorship.log_context.RequestContextMiddleware",  # X-Request-ID; the ids on every log line
    "django.middleware.security.SecurityMiddleware",
    "mentorship.middleware.PrivacyHeadersMiddleware",  # Permissions-Policy; signed-in pages never cached
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "mentorship.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "mentorship.middleware.StaffSecondFactorMiddleware",  # after messages: it tells staff why
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mentorship.middleware.DatabaseBusyMiddleware",  # a lock or statement timeout: "Busy right now" (503)
]

ROOT_URLCONF = "mentorship.urls"
CSRF_FAILURE_VIEW = "mentorship.error_pages.csrf_failure"  # our page for a form sent without a valid token
WSGI_APPLICATION = "mentorship.wsgi.application"

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
                "mentorship.context_processors.site",
                "notifications.context_processors.unread",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker write at the same time: take the write lock when a
    # transaction starts (so select_for_update's intent holds) and use WAL.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Nothing waits for ever: a statement gives up within DB_STATEMENT_TIMEOUT_MS (inside gunicorn's 30 s)
    # and a lock wait within DB_LOCK_TIMEOUT_MS (a mentor's row held by a stuck transaction answers "Busy
    # right now, try again", mentorship.middleware). 0 turns one off (say, for a long migration).
    DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=20_000)
    DB_LOCK_TIMEOUT_MS = env.int("DB_LOCK_TIMEOUT_MS", default=3_000)
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS} -c lock_timeout={DB_LOCK_TIMEOUT_MS}"
    )
# Keep a connection across requests (opening one to PostgreSQL costs more than a simple page), checked
# before reuse so a restarted server costs one failed check, not a failed page. SQLite opens in microseconds.
_sqlite = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if _sqlite else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")


def _paired_database(url: str) -> str:
    """redis://host:port/N with N's pair (N xor 1): always one of Redis's 16 databases, never N itself."""
    parts = urlsplit(url)
    number = parts.path.strip("/")
    if not (number == "" or number.isdigit()):
        return url  # a socket path: set CELERY_BROKER_URL
    return urlunsplit(parts._replace(path=f"/{int(number or 0) ^ 1}"))


if REDIS_URL:
    # Redis down: the cache reads as empty (mentorship.cache) and tasks wait in the outbox; pages still answer.
    CACHES = {
        "default": {
            "BACKEND": "mentorship.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    # Kept pages and the table versions that say when they changed (mentorship.table_versions): their own
    # prefix, so a look at the cache tells them from the rest.
    CACHES["pages"] = {**CACHES["default"], "KEY_PREFIX": "pages"}
    # The broker in a Redis database of its own, so clearing the cache never drops a task: CELERY_BROKER_URL,
    # by default the cache's paired database (0 and 1, 2 and 3, ...) on the same server. Eviction is per
    # server: production gives the broker a Redis of its own with maxmemory-policy noeviction (README).
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_paired_database(REDIS_URL))
    # Longer than any task runs, so an unacknowledged task is redelivered only after a real loss.
    # We never schedule ETA/countdown tasks: deadlines are kept by beat sweepers instead.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 1,
        "socket_timeout": 5,
        "max_retries": 1,
    }
else:
    # Shared by every process on the machine (login limits must hold across gunicorn workers), never
    # per-process memory. MAX_ENTRIES is high so culling never drops a login limit's history.
    CACHES = {"default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 100_000)
    # Kept pages (a new key per person, page and minute) in a cache of their own, so culling them never
    # touches a login limit; everything in it can be lost (a lost version reads as changed).
    CACHES["pages"] = env.cache_url("PAGE_CACHE_URL", default=f"filecache://{VAR_DIR / 'page-cache'}")
    CACHES["pages"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 20_000)
    # A broker that needs no server: messages are files under var/celery/.
    _broker_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # broadcast/pidbox files, else ./control
        "store_processed": False,
    }

# A request hands its side effects to the broker after commit; when it is down, give up fast and let
# the outbox sweeper send them later instead of making the person wait.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# One beat sends, however many run (mentorship.beat): it holds a lead in the shared cache, renewed every tick.
CELERY_BEAT_SCHEDULER = "mentorship.beat:OneBeat"
CELERY_BEAT_MAX_LOOP_INTERVAL = 30  # ticks at least this often, well inside the lead's 120 s
# A side effect a worker started and did not finish within this is taken up again (a dead worker).
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)
CELERY_BEAT_SCHEDULE = {
    "sweep-outbox": {  # side effects whose hand-off to the broker failed, or whose worker died
        "task": "mentorship.tasks.sweep_outbox",
        "schedule": timedelta(minutes=1),
    },
    "release-expired-holds": {
        "task": "bookings.tasks.release_expired_holds",
        "schedule": timedelta(minutes=1),
    },
    "expire-pending-bookings": {
        "task": "bookings.tasks.expire_pending_bookings",
        "schedule": timedelta(minutes=1),
    },
    "complete-unmarked-sessions": {
        "task": "bookings.tasks.complete_unmarked_sessions",
        "schedule": timedelta(minutes=10),
    },
    "send-reminders": {
        "task": "bookings.tasks.send_reminders",
        "schedule": timedelta(minutes=1),
    },
    "resolve-stuck-payments": {
        "task": "payments.tasks.resolve_stuck_payments",
        "schedule": timedelta(minutes=1),
    },
    "retry-refunds": {
        "task": "payments.tasks.retry_refunds",
        "schedule": timedelta(minutes=10),
    },
    # Hours, days off and services change outside bookings too; this keeps the directory's
    # "next free time" within a few minutes of the truth (bookings refresh it at once).
    "sync-calendars": {  # mentors' own calendars: their busy time (mentorship.connected_calendars)
        "task": "mentorship.tasks.sync_calendars",
        "schedule": timedelta(minutes=1),  # each calendar itself every CALENDAR_SYNC_MINUTES
    },
    "refund-unanswered-cancellations": {  # the mentor cancelled and the mentee chose nothing in time
        "task": "bookings.tasks.refund_unanswered_cancellations",
        "schedule": timedelta(minutes=10),
    },
    "refresh-next-free-times": {
        "task": "bookings.tasks.refresh_next_free_times",
        "schedule": timedelta(minutes=10),
    },
    "package-sweeps": {  # credit-expiry reminders, settling expired packages, closing unpaid purchases
        "task": "bookings.tasks.package_sweeps",
        "schedule": timedelta(minutes=10),
    },
    "retry-failed-emails": {
        "task": "notifications.tasks.retry_failed_emails",
        "schedule": timedelta(minutes=5),
    },
    "reconcile-payments": {
        "task": "payments.tasks.reconcile",
        "schedule": timedelta(days=1),
    },
    "pay-out-mentors": {
        "task": "payments.tasks.pay_out_mentors",
        "schedule": timedelta(hours=env.float("PAYOUT_INTERVAL_HOURS", default=24)),
    },
    # A payout left half-way (no answer to its transfer, or a failed bank step) is finished within
    # minutes, with the same idempotency keys, long before Stripe forgets them (24 hours).
    "finish-payouts": {
        "task": "payments.tasks.finish_payouts",
        "schedule": timedelta(minutes=10),
    },
}

# --- Sessions ---------------------------------------------------------------------
# Read from the cache, written to both: a signed-in page skips the session query. Redis down reads as
# empty (mentorship.cache), so sessions come from the database then.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# The benchmark's bare page (/bench/hello/, bench/web.py): the cost of our middleware alone. Off unless set.
BENCH_HELLO = env.bool("BENCH_HELLO", default=False)

# --- Accounts -------------------------------------------------------------------
AUTH_USER_MODEL = "mentorship.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SIGNUP_FORM_CLASS = "mentorship.forms.SignupForm"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Mentorship] "
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "mentorship.accounts.AccountAdapter"
# Login limits (kept in the shared cache above). Failed logins: 5 per 5 minutes for one account from one
# client IP, 30 per hour for one account from everywhere, 20 per 5 minutes from one IP. Someone failing
# against an account from elsewhere doesn't lock its owner out at 5 tries; the account-wide cap stops
# a spread-out guess; a successful password reset clears the account's failures.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "20/5m/ip,5/5m/key",  # key: account and client IP (mentorship.accounts)
    "login_failed_account": "30/h/key",  # key: account
}
# Reverse proxies in front of the app that append the client's address to X-Forwarded-For (0: none;
# the header is then ignored). Read from the right, so addresses a client puts in it itself don't count.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Staff must have a second factor before the admin opens; off in development so the demo staff keeps working.
STAFF_REQUIRE_MFA = env.bool("STAFF_REQUIRE_MFA", default=not DEBUG)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Mentorship"
# A code from the 30 seconds before or after is taken too (RFC 6238 allows one step): a phone's clock drifts,
# and a code typed as it changes would otherwise be refused.
MFA_TOTP_TOLERANCE = 1

# --- E-mail ---------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Sign-up and password mails are sent while the page waits: give up well inside gunicorn's 30 s.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Mentorship <no-reply@mentorship.localhost>")
# Or an e-mail provider's API instead of SMTP (django-anymail). Its webhook, https://<host>/anymail/<provider>/tracking/
# with the basic-auth credentials EMAIL_WEBHOOK_SECRET, reports bounces and spam complaints; our notices then skip
# that address (notifications.suppression). Empty: EMAIL_URL as above.
EMAIL_PROVIDER = env.str("EMAIL_PROVIDER", default="").strip().lower()
# The providers wired here, each with anymail's name for its API key (None: Amazon SES signs with the machine's
# AWS credentials, its role or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, in AWS_DEFAULT_REGION).
EMAIL_PROVIDER_KEYS = {
    "mailgun": "MAILGUN_API_KEY",
    "postmark": "POSTMARK_SERVER_TOKEN",
    "sendgrid": "SENDGRID_API_KEY",
    "brevo": "BREVO_API_KEY",
    "amazon_ses": None,
}
# A send through the provider's API gives up as an SMTP send does, well inside gunicorn's 30 s.
ANYMAIL = {"REQUESTS_TIMEOUT": EMAIL_TIMEOUT}
if EMAIL_PROVIDER:
    if EMAIL_PROVIDER not in EMAIL_PROVIDER_KEYS:
        raise ImproperlyConfigured(f"EMAIL_PROVIDER must be empty or one of: {', '.join(EMAIL_PROVIDER_KEYS)}.")
    EMAIL_BACKEND = f"anymail.backends.{EMAIL_PROVIDER}.EmailBackend"
    if _key_name := EMAIL_PROVIDER_KEYS[EMAIL_PROVIDER]:
        ANYMAIL[_key_name] = env.str("EMAIL_PROVIDER_API_KEY", default="")
        if not ANYMAIL[_key_name]:  # not even in development: nothing could be sent without it
            raise ImproperlyConfigured(f"EMAIL_PROVIDER={EMAIL_PROVIDER} needs EMAIL_PROVIDER_API_KEY.")
    # Every webhook call must carry these basic-auth credentials ("user:password"); anymail refuses it otherwise.
    ANYMAIL["WEBHOOK_SECRET"] = _secret("EMAIL_WEBHOOK_SECRET", "development:webhook-secret")
    if ":" not in ANYMAIL["WEBHOOK_SECRET"]:
        raise ImproperlyConfigured("EMAIL_WEBHOOK_SECRET must be user:password (the webhook's basic-auth credentials).")
    if EMAIL_PROVIDER == "mailgun":
        # Mailgun also signs each webhook call (HMAC-SHA256) with this key, and anymail checks the signature.
        ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"] = _secret("MAILGUN_WEBHOOK_SIGNING_KEY", "development-signing-key")
        ANYMAIL["MAILGUN_API_URL"] = env.str("MAILGUN_API_URL", default="https://api.mailgun.net/v3")
        if _sender_domain := env.str("MAILGUN_SENDER_DOMAIN", default=""):  # else the domain of DEFAULT_FROM_EMAIL
            ANYMAIL["MAILGUN_SENDER_DOMAIN"] = _sender_domain
    if EMAIL_PROVIDER == "amazon_ses":
        # boto3's own timeouts, and one try: a failed notice is sent again by the retry job, not inside a page.
        ANYMAIL["AMAZON_SES_CLIENT_PARAMS"] = {
            "config": {"connect_timeout": 3, "read_timeout": EMAIL_TIMEOUT, "retries": {"total_max_attempts": 1}}
        }

# --- Stripe -----------------------------------------------------------------------
LOCAL_STRIPE_BASE = "http://127.0.0.1:8420"
STRIPE_SECRET_KEY = _secret("STRIPE_SECRET_KEY", "sk_test_localstripe")
STRIPE_PUBLISHABLE_KEY = _secret("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe")
STRIPE_WEBHOOK_SECRET = _secret("STRIPE_WEBHOOK_SECRET", "whsec_localstripe")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default=LOCAL_STRIPE_BASE if DEBUG else "https://api.stripe.com")
STRIPE_JS_URL = env.str(
    "STRIPE_JS_URL", default=f"{LOCAL_STRIPE_BASE}/js.stripe.com/v3/" if DEBUG else "https://js.stripe.com/v3/"
)
PLATFORM_CURRENCY = env.str("PLATFORM_CURRENCY", default="usd")
# Meeting rooms for confirmed online sessions when the mentor gives no link of their own:
# "jitsi" (no account needed) or "zoom" (a Server-to-Server OAuth app of your Zoom account).
# Mentors' own calendars (mentorship.connected_calendars): their addresses are secrets, sealed with
# CALENDAR_SECRET_KEYS (Fernet keys, comma-separated: the first seals, all open, so a key can be rotated;
# make one with `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`).
CALENDAR_SECRET_KEYS = _secret("CALENDAR_SECRET_KEYS", "ZGV2ZWxvcG1lbnQtb25seS1jYWxlbmRhci1rZXktMzI=").split(",")
CALENDAR_SYNC_MINUTES = env.int("CALENDAR_SYNC_MINUTES", default=5)  # how often beat re-reads each calendar
# Calendar addresses in private networks (127.0.0.1, 10.x …) are refused, so a mentor cannot make our
# server read an internal address; development and the tests serve feeds from 127.0.0.1.
CALENDAR_ALLOW_PRIVATE_ADDRESSES = env.bool("CALENDAR_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)
CALENDAR_FEED_MAX_BYTES = env.int("CALENDAR_FEED_MAX_BYTES", default=5 * 1024 * 1024)
MEETING_PROVIDER = env.str("MEETING_PROVIDER", default="jitsi")
JITSI_BASE_URL = env.str("JITSI_BASE_URL", default="https://meet.jit.si")
ZOOM_API_BASE = env.str("ZOOM_API_BASE", default="https://api.zoom.us/v2")
ZOOM_OAUTH_URL = env.str("ZOOM_OAUTH_URL", default="https://zoom.us/oauth/token")
ZOOM_ACCOUNT_ID = env.str("ZOOM_ACCOUNT_ID", default="")
ZOOM_CLIENT_ID = env.str("ZOOM_CLIENT_ID", default="")
ZOOM_CLIENT_SECRET = env.str("ZOOM_CLIENT_SECRET", default="")
if MEETING_PROVIDER not in ("jitsi", "zoom"):
    raise ImproperlyConfigured("MEETING_PROVIDER must be jitsi or zoom.")
if MEETING_PROVIDER == "zoom" and not (ZOOM_ACCOUNT_ID and ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET):
    raise ImproperlyConfigured("MEETING_PROVIDER=zoom needs ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET.")
# Put in front of every idempotency key; give each environment sharing a Stripe account its own.
STRIPE_IDEMPOTENCY_PREFIX = env.str("STRIPE_IDEMPOTENCY_PREFIX", default="")
# One Stripe call, its retries included, ends within this. A checkout makes at most three in a row
# (whose card it is, giving up an unfinished 3-D Secure attempt, the charge): all end before gunicorn's 30 s.
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=8)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
if not 0 < STRIPE_TIMEOUT_SECONDS <= 9:
    raise ImproperlyConfigured("STRIPE_TIMEOUT_SECONDS must be above 0 and at most 9 (gunicorn stops a page at 30 s).")
# A payment still "processing" this long after its last try (an answer lost in flight) is asked about again.
PAYMENT_STUCK_AFTER = timedelta(minutes=env.float("PAYMENT_STUCK_MINUTES", default=2))

# --- Product policy -----------------------------------------------------------------
# Unanswered requests are cancelled and refunded this long after booking (pages and e-mails say so).
BOOKING_PENDING_TIMEOUT = timedelta(days=env.float("BOOKING_PENDING_TIMEOUT_DAYS", default=7))
if BOOKING_PENDING_TIMEOUT.total_seconds() <= 0:
    raise ImproperlyConfigured("BOOKING_PENDING_TIMEOUT_DAYS must be more than 0.")
# The cancellation window a new mentor starts with; each mentor may change theirs, a service may have its own,
# and a booking keeps the one shown at checkout. Whole hours, as mentors set it (at most 14 days).
try:
    BOOKING_CANCELLATION_WINDOW_HOURS = env.int("BOOKING_CANCELLATION_WINDOW_HOURS", default=24)
except ValueError:
    raise ImproperlyConfigured("BOOKING_CANCELLATION_WINDOW_HOURS must be a whole number of hours.") from None
if not 0 <= BOOKING_CANCELLATION_WINDOW_HOURS <= 24 * 14:
    raise ImproperlyConfigured("BOOKING_CANCELLATION_WINDOW_HOURS must be between 0 and 336.")
# A confirmed session nobody marked complete (and nobody reported) is completed this long after its end.
# When the mentor cancels, the mentee picks a new time or a full refund; without an answer in this many days
# the refund is made.
BOOKING_REBOOK_WINDOW = timedelta(days=env.float("BOOKING_REBOOK_DAYS", default=3))
if BOOKING_REBOOK_WINDOW.total_seconds() <= 0:
    raise ImproperlyConfigured("BOOKING_REBOOK_DAYS must be more than 0.")
BOOKING_AUTO_COMPLETE = timedelta(days=env.float("BOOKING_AUTO_COMPLETE_DAYS", default=3))
BOOKING_HOLD_TIMEOUT = timedelta(minutes=env.float("BOOKING_HOLD_MINUTES", default=15))
BOOKING_REMINDERS = [timedelta(hours=h) for h in env.list("BOOKING_REMINDER_HOURS", cast=float, default=[24, 1])]
PLATFORM_FEE_PERCENT = env.float("PLATFORM_FEE_PERCENT", default=15)
PAYOUT_MINIMUM_CENTS = env.int("PAYOUT_MINIMUM_CENTS", default=1000)
# Above this many rows (PostgreSQL's estimate), an unfiltered admin list of a big table shows the estimate.
ADMIN_ESTIMATED_COUNT_ABOVE = env.int("ADMIN_ESTIMATED_COUNT_ABOVE", default=10_000)
# At most one "new message" e-mail per conversation and person in this time.
MESSAGE_EMAIL_INTERVAL = timedelta(minutes=env.float("MESSAGE_EMAIL_INTERVAL_MINUTES", default=15))

# --- Internationalisation ------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Uploaded files (mentor photos). On disk (MEDIA_ROOT, served by the app) unless MEDIA_BUCKET names an S3
# bucket every machine shares; then browsers are sent to the bucket for them (mentorship/media_storage.py).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_BUCKET = env.str("MEDIA_BUCKET", default="")
MEDIA_PUBLIC_URL = env.str("MEDIA_PUBLIC_URL", default="")  # a CDN or public bucket address: unsigned links
MEDIA_ORIGINS: list[str] = []  # where browsers load photos from besides us (the content policy's img-src)
if MEDIA_BUCKET:
    STORAGES["default"], MEDIA_ORIGINS = media_storage.bucket_storage(
        bucket=MEDIA_BUCKET,
        endpoint_url=env.str("MEDIA_ENDPOINT_URL", default=""),
        region=env.str("MEDIA_REGION", default=""),
        access_key=env.str("MEDIA_ACCESS_KEY_ID", default=""),
        secret_key=env.str("MEDIA_SECRET_ACCESS_KEY", default=""),
        public_url=MEDIA_PUBLIC_URL,
        prefix=env.str("MEDIA_PREFIX", default=""),
    )
WHITENOISE_USE_FINDERS = DEBUG

# --- Security (production) ---------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)

# --- Content-Security-Policy (django-csp) and Permissions-Policy ---------------------------
# Scripts, styles, images and requests only from this site; no inline scripts, styles or handlers
# (a nonce marks our own script tags). The checkout pages add Stripe.js on top (payments.content_policy),
# and the Earnings page the Stripe Connect onboarding it sends mentors to.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *MEDIA_ORIGINS],  # data: only for the empty favicon; photos maybe a bucket
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Features no page of ours uses, refused to every page and anything it frames.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), midi=(), payment=(), usb=()"
)

# --- Limits on costly actions, per person: (attempts, window in seconds) --------------------------
# Each pay attempt calls Stripe; messages and tickets e-mail people; refunds move money; photos are re-encoded.
RATE_LIMITS = {
    "pay": (env.int("RATE_LIMIT_PAY", default=10), 15 * 60),
    "message": (env.int("RATE_LIMIT_MESSAGE", default=30), 10 * 60),
    "support": (env.int("RATE_LIMIT_SUPPORT", default=5), 60 * 60),  # support tickets and no-show reports
    "refund": (env.int("RATE_LIMIT_REFUND", default=20), 60 * 60),
    "photo": (env.int("RATE_LIMIT_PHOTO", default=10), 60 * 60),
    "export": (env.int("RATE_LIMIT_EXPORT", default=5), 60 * 60),  # a copy of all one's data: many queries
    "delete": (env.int("RATE_LIMIT_DELETE", default=5), 60 * 60),  # deleting an account asks for the password
    "calendar": (env.int("RATE_LIMIT_CALENDAR", default=20), 60 * 60),  # connecting one makes our server read it
}

# --- Logs and error tracking -------------------------------------------------------------------------
# One JSON object per line in production (a collector reads it), readable lines in development; each line
# carries the request id, and the person, booking and payment ids when there are any (mentorship.log_context).
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "ids": {"()": "mentorship.log_context.ContextFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "json": {"()": "mentorship.log_context.JsonFormatter"},
        "text": {"()": "mentorship.log_context.TextFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["ids"]},
        # A page that failed, e-mailed to ADMINS (nobody when unset); without the request's cookies.
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's errors: to ADMINS, and on to the root's console (not a second console line of Django's own).
    "loggers": {"django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True}},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers and beat log through LOGGING too, in the same format
# Who hears of a failed page by e-mail: "Ana <ana@example.com>, ops@example.com".
ADMINS = getaddresses(env.list("ADMINS", default=[]))
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
DEFAULT_EXCEPTION_REPORTER_FILTER = "mentorship.error_reports.WithoutFormData"  # no typed words in those e-mails

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    error_tracking.start(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        release=env.str("SENTRY_RELEASE", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
