"""The public pages' cache, shared by every app server through the configured
cache (Redis in production).

Each cached response is keyed by the site's *generation*, a number every
change to what is live moves on (publishing, withdrawing, re-confirming, and
the rebuilds they cause), once its transaction has committed. A page served from
the cache costs no SQL query; a publish shows at once on every server.

The cache is a convenience, never a dependency: when it is down, pages are
served from the database and a warning is logged.
"""

import functools
import logging

from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils import translation

logger = logging.getLogger(__name__)

GENERATION_KEY = "public:generation"
TIMEOUT = 24 * 60 * 60


def _generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        generation = cache.get(GENERATION_KEY) or 1
    return generation


def invalidate() -> None:
    """Forget every cached public page, now and again once the current transaction
    commits (a page read and cached in between would hold the old version)."""
    _bump()
    transaction.on_commit(_bump)


def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet: nothing is cached under one
        cache.add(GENERATION_KEY, 1, timeout=None)
    except Exception as error:  # the cache is down; nothing can be read from it either
        logger.warning("Could not invalidate the public page cache: %s", error)


def cached_public_page(view):
    """Serve ``view``'s successful GET responses from the cache, per host, language and path."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        try:
            key = f"public:{_generation()}:{request.get_host()}:{request.path}"
            cached = cache.get(key)
        except Exception as error:  # any failure of the cache: fall back on the database
            logger.warning("Public page cache unavailable, serving from the database: %s", error)
            return view(request, *args, **kwargs)
        if cached is not None:
            content, content_type, language = cached
            response = HttpResponse(content, content_type=content_type)
            response["Content-Language"] = language
            response["X-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            if hasattr(response, "render"):
                response.render()
            try:
                value = (response.content, response["Content-Type"], translation.get_language())
                cache.set(key, value, TIMEOUT)
            except Exception as error:
                logger.warning("Could not store a public page in the cache: %s", error)
            response["X-Cache"] = "miss"
        return response

    return wrapper
