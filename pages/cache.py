"""The public pages' cache, shared by every app server through the configured
cache (Redis in production).

Each cached response is keyed by the site's *generation*, a number every
change to what is live replaces with a new one (publishing, withdrawing,
re-confirming, moving, and the rebuilds they cause): when the change takes the
live-site lock and again once its transaction has committed. A page served from
the cache costs no SQL query.

The cache must be shared by every process that serves or changes pages (Redis
in production, a directory on one machine in development): a command that
publishes is a process too. Production refuses to start with a cache of one
process's own (see pages.checks), unless the public cache is off
(PUBLIC_CACHE=off).

Each app server also keeps the pages it served lately in its own memory, and
asks the shared cache which generation is current at most every
PUBLIC_CACHE_CHECK_SECONDS (a tenth of a second by default; 0 asks on every
request): a publish shows on every server within that time, and a page read
in between costs no round trip at all.

The cache is a convenience, never a dependency: when it is down, pages are
served from the database and a warning is logged.
"""

import contextlib
import functools
import logging
import secrets
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.utils import translation

logger = logging.getLogger(__name__)

GENERATION_KEY = "public:generation"


class Process:
    """One app server process's memory: the generation last read, when, the pages served
    lately, whether a change to the live site could not be announced to the shared cache,
    and until when the shared cache is left alone after it failed (a circuit breaker).

    Times are the wall clock's: a page's age started when it was first stored, by whichever
    process stored it, and travels with it from the shared cache into each one's memory."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self.generation: int | None = None
        self.checked = 0.0
        self.pages: OrderedDict = OrderedDict()  # key -> (stored at, value)
        self.unannounced = False
        self.cache_down_until = 0.0

    def forget(self) -> None:
        self.generation = None
        self.pages.clear()

    def is_fresh(self, stored_at: float) -> bool:
        return self.clock() - stored_at <= settings.PUBLIC_CACHE_SECONDS

    def get(self, key: str):
        stored = self.pages.get(key)
        if stored is None:
            return None
        if not self.is_fresh(stored[0]):
            del self.pages[key]
            return None
        self.pages.move_to_end(key)
        return stored[1]

    def put(self, key: str, value, stored_at: float) -> None:
        self.pages[key] = (stored_at, value)
        while len(self.pages) > settings.PUBLIC_CACHE_LOCAL_PAGES:
            self.pages.popitem(last=False)

    def cache_failed(self, error: Exception) -> None:
        """The shared cache failed or timed out: leave it alone for PUBLIC_CACHE_RETRY_SECONDS,
        so that every request does not wait on it in turn."""
        self.cache_down_until = self.clock() + settings.PUBLIC_CACHE_RETRY_SECONDS
        logger.warning("Public page cache unavailable, serving from the database: %s", error)

    def is_cache_down(self) -> bool:
        return self.clock() < self.cache_down_until


_this_process = Process()


@contextlib.contextmanager
def as_process(process: Process):
    """Serve as if from another app server with memory ``process`` (tests of what each
    server shows after a change made elsewhere)."""
    global _this_process
    own, _this_process = _this_process, process
    try:
        yield process
    finally:
        _this_process = own


def is_enabled() -> bool:
    return settings.PUBLIC_CACHE_ENABLED


def _generation() -> int | None:
    local = _this_process
    if local.unannounced:
        # This process changed what is live while the cache was unreachable: announce it
        # before serving anything from the cache, or fail (and serve from the database).
        _bump()
        if local.unannounced:
            raise ConnectionError("the public page cache has not heard of the latest change yet")
    now = local.clock()
    if local.generation is not None and now - local.checked < settings.PUBLIC_CACHE_CHECK_SECONDS:
        return local.generation
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        generation = _start_generation()
    if generation != local.generation:
        local.pages.clear()  # every page held was of an older generation
    local.generation, local.checked = generation, now
    return generation


def invalidate() -> None:
    """Forget every cached public page, now and again once the current transaction
    commits (a page read and cached in between would hold the old version).

    Called again inside the same transaction, it does nothing more: one change to the
    live site, one invalidation, however many pages and languages it touches."""
    if not _invalidation_pending():
        _bump()
        transaction.on_commit(_bump_after_commit)


def _invalidation_pending() -> bool:
    """Whether this transaction has already asked for the cache to be emptied on commit.

    A test runs inside a transaction of its own that never commits (Django's test
    case atomics): there, each change's own outermost block counts as its transaction."""
    connection = transaction.get_connection()
    depth = sum(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)
    change = connection.savepoint_ids[depth - 1] if depth and len(connection.savepoint_ids) >= depth else None
    return any(
        callback is _bump_after_commit and (change is None or change in savepoints)
        for savepoints, callback, _robust in connection.run_on_commit
    )


def _bump_after_commit() -> None:
    _bump()


def clear() -> None:
    """Empty the shared cache and this process's memory of pages (tests, and after
    changing what is live behind the site's back, such as restoring a backup)."""
    _this_process.forget()
    _this_process.cache_down_until = 0.0
    cache.clear()


def _new_generation() -> int:
    """A generation never used before, even if the cache lost everything (a restarted
    Redis), so that no app server's memory holds a page under it. Random rather than
    counted: setting a fresh value needs no atomic increment, so every cache backend
    (a directory shared by the processes of one machine, too) can hold it safely."""
    return secrets.randbits(62)


def _start_generation() -> int | None:
    cache.add(GENERATION_KEY, _new_generation(), timeout=None)
    return cache.get(GENERATION_KEY)


def _bump() -> None:
    _this_process.forget()
    try:
        if _this_process.is_cache_down():
            raise ConnectionError("left alone since it failed")
        cache.set(GENERATION_KEY, _new_generation(), timeout=None)
    except Exception as error:  # the cache is unreachable: announce the change as soon as it is back
        _this_process.unannounced = True
        logger.warning("Could not invalidate the public page cache: %s", error)
    else:
        _this_process.unannounced = False


def page_key(generation: int, host: str, path: str) -> str:
    return f"public:{generation}:{host}:{path}"


def cached_public_page(view):
    """Serve ``view``'s successful GET responses from the cache, per host, language and path."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        local = _this_process
        if request.method not in ("GET", "HEAD") or not is_enabled() or local.is_cache_down():
            return view(request, *args, **kwargs)
        try:
            generation = _generation()
            if generation is None:  # a cache that keeps nothing (DummyCache)
                return view(request, *args, **kwargs)
            key = page_key(generation, request.get_host(), request.path)
            cached = local.get(key)
            if cached is None and (shared := cache.get(key)) is not None:
                stored_at, cached = shared
                if local.is_fresh(stored_at):
                    local.put(key, cached, stored_at)
                else:
                    cached = None
        except Exception as error:  # any failure of the cache: fall back on the database
            local.cache_failed(error)
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
                value, stored_at = (
                    (response.content, response["Content-Type"], translation.get_language()),
                    local.clock(),
                )
                local.put(key, value, stored_at)
                cache.set(key, (stored_at, value), settings.PUBLIC_CACHE_SECONDS)
            except Exception as error:
                local.cache_failed(error)
            response["X-Cache"] = "miss"
        return response

    return wrapper
