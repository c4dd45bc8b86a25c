"""The benchmark server: the site's own settings, plus the floor view, and with
BENCH_CACHE=off the public page cache switched off (every page read from the database), as
PUBLIC_CACHE=off does on a site."""

import os

from config.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.urls"

if os.environ.get("BENCH_CACHE") == "off":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    PUBLIC_CACHE_ENABLED = False
