"""Production settings: the development defaults off, the browser protections on.

Use with ``DJANGO_SETTINGS_MODULE=config.production``. SECRET_KEY, ALLOWED_HOSTS
and DATABASE_URL come from the environment; see the README.
"""

import os

os.environ.setdefault("DEBUG", "false")

from django.core.exceptions import ImproperlyConfigured

from config.settings import *  # noqa: F403
from config.settings import DEBUG, PUBLIC_CACHE_ENABLED, SITE_URL, env_bool

if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production.")
if not SITE_URL.startswith("https://"):
    # Canonical links, language alternates and e-mails all use it.
    raise ImproperlyConfigured("SITE_URL must be set to the site's public https:// address in production.")
if PUBLIC_CACHE_ENABLED and not os.environ.get("REDIS_URL"):
    # Each app server would keep its own cache: a recall would not reach the others' readers.
    raise ImproperlyConfigured(
        "REDIS_URL must be set in production, so that every app server shares the public page cache "
        "(or set PUBLIC_CACHE=off to serve every page from the database)."
    )

# Static files served by the app servers themselves (whitenoise): compressed, with
# content-hashed names cached for a year. Run `manage.py collectstatic` on deploy.
STORAGES = STORAGES | {  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
if not SECURE_HSTS_PRELOAD:
    # Turning preload off is a deliberate choice (e.g. sub-domains not yet on HTTPS).
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Reviewers, publishers and superusers sign in with a second factor.
REQUIRE_TWO_FACTOR = env_bool("REQUIRE_TWO_FACTOR", True)
