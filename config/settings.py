"""Settings read from the environment, with safe development defaults.

Production imports this module through ``config.production``, which turns the
development defaults off and insists on the values a live site needs.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django_prose_editor.config import html_tags, process_link
from js_asset import static_lazy

from pages import languages

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-key-never-used-when-debug-is-off"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # modeltranslation patches the admin, so it comes before it.
    "modeltranslation",
    "config.apps.ClinicalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # the search document's field (harmless on SQLite)
    "django.contrib.sitemaps",
    "django_prose_editor",
    "reversion",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "pages",
    "review",
]

MIDDLEWARE = [
    # First: a public page this process served lately, answered as it was (pages.cache).
    "pages.cache.AnswerFromMemory",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "pages.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "pages.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, so that it sees the sign-in views' answers.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Bounds on every wait for PostgreSQL (seconds; see config/database/base.py and the README):
# connecting (2 at least: libpq's own floor); how long a request waits for an answer before
# asking whether the server answers at all, and how long that check may take, after which the
# request gets a 503 and the process leaves the database alone for DATABASE_RETRY_SECONDS;
# and, on the server, the longest a statement may run and a transaction may sit idle (for
# commands as well as requests).
DATABASE_CONNECT_TIMEOUT_SECONDS = max(2, round(float(os.environ.get("DATABASE_CONNECT_TIMEOUT_SECONDS", "2"))))
DATABASE_WAIT_SECONDS = float(os.environ.get("DATABASE_WAIT_SECONDS", "1"))
DATABASE_PROBE_SECONDS = float(os.environ.get("DATABASE_PROBE_SECONDS", "1"))
DATABASE_RETRY_SECONDS = float(os.environ.get("DATABASE_RETRY_SECONDS", "5"))
DATABASE_STATEMENT_TIMEOUT_SECONDS = float(os.environ.get("DATABASE_STATEMENT_TIMEOUT_SECONDS", "30"))
DATABASE_IDLE_IN_TRANSACTION_SECONDS = float(os.environ.get("DATABASE_IDLE_IN_TRANSACTION_SECONDS", "60"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "config.database"
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT_SECONDS)
    _options["options"] = " ".join(
        [
            _options.get("options", ""),
            f"-c statement_timeout={int(DATABASE_STATEMENT_TIMEOUT_SECONDS * 1000)}",
            f"-c idle_in_transaction_session_timeout={int(DATABASE_IDLE_IN_TRANSACTION_SECONDS * 1000)}",
        ]
    ).strip()

# The cache every process shares: Redis (REDIS_URL) in production; without it, a
# directory that the processes of one machine share (a runserver and a command that
# publishes are two processes: a cache of each one's own would keep old pages).
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "clinical-cms"),
            # A Redis that hangs costs a request this long, not redis-py's default of waiting for ever.
            "OPTIONS": {
                "socket_connect_timeout": float(os.environ.get("REDIS_TIMEOUT_SECONDS", "0.5")),
                "socket_timeout": float(os.environ.get("REDIS_TIMEOUT_SECONDS", "0.5")),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ.get("CACHE_DIR") or str(BASE_DIR / ".cache"),
        }
    }

# The public page cache; PUBLIC_CACHE=off serves every page from the database.
PUBLIC_CACHE_ENABLED = env_bool("PUBLIC_CACHE", True)
# Public pages: how often each app server asks the shared cache whether anything was
# published (seconds; 0 on every request), and how many pages it keeps in its own memory.
PUBLIC_CACHE_CHECK_SECONDS = float(os.environ.get("PUBLIC_CACHE_CHECK_SECONDS", "0.1"))
PUBLIC_CACHE_LOCAL_PAGES = int(os.environ.get("PUBLIC_CACHE_LOCAL_PAGES", "300"))
# The longest any page stays cached, whatever happens: a backstop, since every change to
# what is live empties the cache at once.
PUBLIC_CACHE_SECONDS = int(os.environ.get("PUBLIC_CACHE_SECONDS", "600"))
# How often each app server compares the database's count of changes to the live site with
# the one the cache last announced, and announces a change whose own announcement was lost
# (its process died after COMMIT, or the cache was down): the longest such a change can stay unseen.
PUBLIC_CACHE_VERIFY_SECONDS = float(os.environ.get("PUBLIC_CACHE_VERIFY_SECONDS", "1"))
# After the shared cache fails or times out, each process serves from the database without
# trying it again for this long (a circuit breaker), instead of waiting on it every request.
PUBLIC_CACHE_RETRY_SECONDS = float(os.environ.get("PUBLIC_CACHE_RETRY_SECONDS", "5"))

# The public search: how many searches one visitor (by address, see TRUSTED_PROXY_COUNT) may
# start in each SEARCH_RATE_SECONDS before getting a 429 (0: no limit).
SEARCH_RATE_LIMIT = int(os.environ.get("SEARCH_RATE_LIMIT", "30"))
SEARCH_RATE_SECONDS = float(os.environ.get("SEARCH_RATE_SECONDS", "60"))
# On PostgreSQL, a search is stopped after this long (the visitor is asked for other words),
# and ranks at most this many matches (a word on every page costs what one on a thousand does).
SEARCH_TIMEOUT_MS = int(os.environ.get("SEARCH_TIMEOUT_MS", "1000"))
SEARCH_CANDIDATES = int(os.environ.get("SEARCH_CANDIDATES", "1000"))
# Addresses in each page of the sitemap: under the protocol's 50,000 and, for addresses of
# any length with their alternates, its 50 MB.
SITEMAP_PAGE_SIZE = int(os.environ.get("SITEMAP_PAGE_SIZE", "10000"))
# Publishing, withdrawing or moving a page composes again, in its own transaction, at most this
# many of the other pages that show it (links, breadcrumbs, child lists); the rest wait for a
# background thread (REBUILD_IN_BACKGROUND) or `manage.py rebuild_waiting_pages`, in batches of
# REBUILD_BATCH, and are composed on each request until then: never showing a broken link.
DEPENDENTS_REBUILT_AT_ONCE = int(os.environ.get("DEPENDENTS_REBUILT_AT_ONCE", "100"))
REBUILD_BATCH = int(os.environ.get("REBUILD_BATCH", "20"))
REBUILD_IN_BACKGROUND = env_bool("REBUILD_IN_BACKGROUND", True)
# How often each app server looks for pages left waiting by a process that stopped first.
REBUILD_CHECK_SECONDS = float(os.environ.get("REBUILD_CHECK_SECONDS", "60"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages: the first is the source language every page is written in first. Those the
# site may use, with their names, are listed in pages/languages.py (see the README).
LANGUAGE_CODE = env_list("LANGUAGES", "en,cy,ar")[0]
LANGUAGES = languages.named(env_list("LANGUAGES", "en,cy,ar"))
MODELTRANSLATION_DEFAULT_LANGUAGE = LANGUAGE_CODE
# Dates written one way in each language (config/formats), on every screen and in every e-mail.
FORMAT_MODULE_PATH = ["config.formats"]
# Never show one language's text silently in place of another's.
MODELTRANSLATION_ENABLE_FALLBACKS = False
MODELTRANSLATION_FALLBACK_LANGUAGES = ()
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# In development whitenoise serves straight from the app and static folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# E-mail: the console in development; set EMAIL_BACKEND=smtp and the EMAIL_* variables for a real server.
EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}
_email_backend = os.environ.get("EMAIL_BACKEND", "console" if DEBUG else "smtp")
MAILERS = {"default": {"BACKEND": EMAIL_BACKENDS.get(_email_backend, _email_backend)}}
if os.environ.get("EMAIL_FILE_PATH"):  # a backend that writes messages to files (filebased), such as tests'
    MAILERS["default"]["OPTIONS"] = {"file_path": os.environ["EMAIL_FILE_PATH"]}
if MAILERS["default"]["BACKEND"] == EMAIL_BACKENDS["smtp"]:
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "25")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "content@localhost")
# How long a run of send_notifications holds the e-mails it claimed before another may take them.
NOTIFICATION_CLAIM_SECONDS = int(os.environ.get("NOTIFICATION_CLAIM_SECONDS", "300"))
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

LOGIN_URL = "admin:login"
# Where signing in lands when it has nowhere (safe) to go back to.
LOGIN_REDIRECT_URL = "admin:index"

# Where the admin lives; a less obvious address keeps it out of most scanners' way.
ADMIN_URL = os.environ.get("ADMIN_URL", "admin/").strip("/") + "/"

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair is locked out, and the lockout expires after
# AXES_COOLOFF_MINUTES, so an attacker can never lock a reviewer out for good.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout do not extend it: it ends on time, however much an attacker keeps trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False  # lockouts are still logged as warnings
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failed sign-in kept for audit, not only the counters
AXES_LOCKOUT_CALLABLE = "config.admin.locked_out"
# Masked in axes' records and logs: a code typed with a wrong password may still be unused.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
AXES_CLIENT_IP_CALLABLE = "config.admin.client_address"
# Behind a load balancer the client's address is in X-Forwarded-For: set this to the
# number of proxies in front of the app servers that append to it (see the README).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Two-factor sign-in (django-otp, TOTP): when on, superusers, clinical reviewers and
# publishers sign in to the admin with a code from an authenticator app as well.
REQUIRE_TWO_FACTOR = env_bool("REQUIRE_TWO_FACTOR", False)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Clinical content")
# Nobody, superusers included, reads a person's authenticator key or backup codes in the
# admin: a copied second factor would let someone sign off as that reviewer.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# The address people use to reach this site, for links in e-mails.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Sign-off: the reviewer may also publish, unless this asks for a third person
# (neither an author nor the reviewer) to publish.
REVIEW_REQUIRE_THIRD_PERSON = env_bool("REVIEW_REQUIRE_THIRD_PERSON", False)

# Review reminders: days before a review falls due to remind its owner, and the
# address (the clinical lead) for pages without an owner who can receive e-mail.
REVIEW_REMINDER_DAYS = [int(days) for days in env_list("REVIEW_REMINDER_DAYS", "60,14")]
REVIEW_REMINDER_FALLBACK_EMAIL = os.environ.get("REVIEW_REMINDER_FALLBACK_EMAIL", "")
# How long a reminders run holds what it claimed without sending another digest; past it,
# a later run takes over (a run that died). Renewed after each digest.
REVIEW_REMINDER_CLAIM_SECONDS = int(os.environ.get("REVIEW_REMINDER_CLAIM_SECONDS", "600"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals_in_one_line": {"()": "config.logging.RefusalsInOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["refusals_in_one_line"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Sign-in throttling logs every success at INFO; failures and lockouts are warnings.
    "loggers": {"axes": {"level": "WARNING"}},
}

# Content-Security-Policy, everywhere (the admin included): our own scripts and
# styles only, nothing inline unless it carries the response's nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# The admin's language tabs need jQuery UI; it is served from our own static files.
JQUERY_UI_URL = "vendor/jquery-ui/jquery-ui.min.js"

# The section editor's own tools (pages/fields.py turns them on): a link dialog that finds pages
# of this site and a glossary-term dialog (static/js/prose-tools.js, answered by pages.picker).
# Both write links, so they allow what the Link extension does.
DJANGO_PROSE_EDITOR_EXTENSIONS = [
    {
        "js": [static_lazy("js/prose-tools.js")],
        "extensions": {"SiteLink": process_link, "GlossaryTerm": html_tags([])},
    }
]
