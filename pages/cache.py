"""The public pages' cache, shared by every app server through the configured
cache (Redis in production).

Each cached response is keyed by the site's *generation*, a number every
change to what is live moves on (publishing, withdrawing, re-confirming, and
the rebuilds they cause), once its transaction has committed. A page served from
the cache costs no SQL query; a publish shows at once on every server.

Each app server also keeps the pages it served lately in its own memory, and
asks the shared cache which generation is current at most every
PUBLIC_CACHE_CHECK_SECONDS (a tenth of a second by default; 0 asks on every
request): a publish shows on every server within that time, and a page read
in between costs no round trip at all.

The cache is a convenience, never a dependency: when it is down, pages are
served from the database and a warning is logged.
"""

import functools
import logging
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils import translation

logger = logging.getLogger(__name__)

GENERATION_KEY = "public:generation"


class _Local:
    """This process's memory: the generation last read, when, the pages served lately,
    and whether a change to the live site could not be announced to the shared cache."""

    generation: int | None = None
    checked = 0.0
    pages: OrderedDict = OrderedDict()  # key -> (stored at, value)
    unannounced = False

    @classmethod
    def forget(cls) -> None:
        cls.generation = None
        cls.pages.clear()

    @classmethod
    def get(cls, key: str):
        stored = cls.pages.get(key)
        if stored is None:
            return None
        if time.monotonic() - stored[0] > settings.PUBLIC_CACHE_SECONDS:
            del cls.pages[key]
            return None
        cls.pages.move_to_end(key)
        return stored[1]

    @classmethod
    def put(cls, key: str, value) -> None:
        cls.pages[key] = (time.monotonic(), value)
        while len(cls.pages) > settings.PUBLIC_CACHE_LOCAL_PAGES:
            cls.pages.popitem(last=False)


def _generation() -> int | None:
    if _Local.unannounced:
        # This process changed what is live while the cache was unreachable: announce it
        # before serving anything from the cache, or fail (and serve from the database).
        _bump()
        if _Local.unannounced:
            raise ConnectionError("the public page cache has not heard of the latest change yet")
    now = time.monotonic()
    if _Local.generation is not None and now - _Local.checked < settings.PUBLIC_CACHE_CHECK_SECONDS:
        return _Local.generation
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        generation = _start_generation()
    if generation != _Local.generation:
        _Local.pages.clear()  # every page held was of an older generation
    _Local.generation, _Local.checked = generation, now
    return generation


def invalidate() -> None:
    """Forget every cached public page, now and again once the current transaction
    commits (a page read and cached in between would hold the old version)."""
    _bump()
    transaction.on_commit(_bump)


def clear() -> None:
    """Empty the shared cache and this process's memory of pages (tests, and after
    changing what is live behind the site's back, such as restoring a backup)."""
    cache.clear()
    _Local.forget()


def _start_generation() -> int | None:
    """A first generation never used before, even if the cache lost everything (a
    restarted Redis): the time in microseconds, far ahead of the one or two steps
    each publish moves it on, so that no app server's memory holds a page under it."""
    cache.add(GENERATION_KEY, time.time_ns() // 1_000, timeout=None)
    return cache.get(GENERATION_KEY)


def _bump() -> None:
    _Local.forget()
    try:
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:  # no generation yet: nothing is cached under one
            _start_generation()
    except Exception as error:  # the cache is unreachable: announce the change as soon as it is back
        _Local.unannounced = True
        logger.warning("Could not invalidate the public page cache: %s", error)
    else:
        _Local.unannounced = False


def cached_public_page(view):
    """Serve ``view``'s successful GET responses from the cache, per host, language and path."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        try:
            generation = _generation()
            if generation is None:  # a cache that keeps nothing (DummyCache)
                return view(request, *args, **kwargs)
            key = f"public:{generation}:{request.get_host()}:{request.path}"
            cached = _Local.get(key)
            if cached is None and (cached := cache.get(key)) is not None:
                _Local.put(key, cached)
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
                cache.set(key, value, settings.PUBLIC_CACHE_SECONDS)
                _Local.put(key, value)
            except Exception as error:
                logger.warning("Could not store a public page in the cache: %s", error)
            response["X-Cache"] = "miss"
        return response

    return wrapper
