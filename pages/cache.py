"""The public pages' cache, shared by every app server through the configured
cache (Redis in production).

Each cached response is keyed by the site's *generation*, a number every
change to what is live replaces with a new one (publishing, withdrawing,
re-confirming, moving, and the rebuilds they cause): when the change takes the
live-site lock and again once its transaction has committed. A page served from
the cache costs no SQL query.

The announcement cannot be lost. Each change also counts itself in the database,
in its own transaction (``pages.models.LiveSite``), and the generation in the
shared cache carries the count it was announced for. Every app server compares
the two every PUBLIC_CACHE_VERIFY_SECONDS (one query, in a thread of its own, never
in a request) and announces a change nobody announced: its process died after
COMMIT, never heard back from COMMIT, or could not reach the cache before it
exited.

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
import os
import secrets
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, transaction
from django.http import HttpResponse
from django.utils import translation

from config.database.base import watchdog
from pages.models import LiveSite

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
        self.answers: OrderedDict = OrderedDict()  # the same, for whole answers (AnswerFromMemory)
        self.unannounced: int | None = None  # the count of the change it could not announce
        self.cache_down_until = 0.0
        self.lock = threading.Lock()  # requests and this process's threads share the memory

    def forget(self) -> None:
        self.generation = None
        self.forget_pages()

    def forget_pages(self) -> None:
        with self.lock:
            self.pages.clear()
            self.answers.clear()

    def is_fresh(self, stored_at: float) -> bool:
        return self.clock() - stored_at <= settings.PUBLIC_CACHE_SECONDS

    def get(self, key: str, *, answer: bool = False):
        """What is held under ``key`` (among whole answers with ``answer``) while fresh, as
        (stored at, value); else None."""
        held = self.answers if answer else self.pages
        with self.lock:
            stored = held.get(key)
            if stored is None:
                return None
            if not self.is_fresh(stored[0]):
                del held[key]
                return None
            held.move_to_end(key)
            return stored

    def put(self, key: str, value, stored_at: float, *, answer: bool = False) -> None:
        held = self.answers if answer else self.pages
        with self.lock:
            held[key] = (stored_at, value)
            while len(held) > settings.PUBLIC_CACHE_LOCAL_PAGES:
                held.popitem(last=False)

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
    if local.unannounced is not None:
        # This process changed what is live while the cache was unreachable: announce it
        # before serving anything from the cache, or fail (and serve from the database).
        _bump(local.unannounced)
        if local.unannounced is not None:
            raise ConnectionError("the public page cache has not heard of the latest change yet")
    now = local.clock()
    if local.generation is not None and now - local.checked < settings.PUBLIC_CACHE_CHECK_SECONDS:
        return local.generation
    current = cache.get(GENERATION_KEY)
    if current is None:
        current = _start_generation()
    generation = _announced(current)[0]
    if generation != local.generation:
        local.forget_pages()  # every page held was of an older generation
    local.generation, local.checked = generation, now
    return generation


def invalidate(changes: int) -> None:
    """Forget every cached public page, now and again once the current transaction
    commits (a page read and cached in between would hold the old version), which makes
    ``changes`` (the live site's count of changes, counted up in this transaction) the
    count announced.

    Called again inside the same transaction, it only updates that count: one change to
    the live site, one invalidation, however many pages and languages it touches."""
    if pending := _pending_announcement():
        pending.changes = changes
        return
    _bump(changes - 1)  # until this commits, what readers see is the state before it
    transaction.on_commit(Announcement(changes))


class Announcement:
    """Run once a change to the live site has committed: tell every app server, through
    the shared cache, that it happened (and which count of changes it made)."""

    def __init__(self, changes: int):
        self.changes = changes

    def __call__(self) -> None:
        _bump(self.changes)


def _pending_announcement() -> Announcement | None:
    """What this transaction has already asked to announce once it commits, if anything.

    A test runs inside a transaction of its own that never commits (Django's test
    case atomics): there, each change's own outermost block counts as its transaction."""
    connection = transaction.get_connection()
    depth = sum(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)
    change = connection.savepoint_ids[depth - 1] if depth and len(connection.savepoint_ids) >= depth else None
    for savepoints, callback, _robust in connection.run_on_commit:
        if isinstance(callback, Announcement) and (change is None or change in savepoints):
            return callback
    return None


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


def _announced(current) -> tuple[int, int | None]:
    """The generation held by the shared cache, and the count of changes it was announced for
    (None when unknown: a cache that lost everything, or an older release's plain number)."""
    return tuple(current) if isinstance(current, tuple | list) else (current, None)


def _start_generation():
    cache.add(GENERATION_KEY, (_new_generation(), None), timeout=None)
    return cache.get(GENERATION_KEY)


def _bump(changes: int | None) -> None:
    _this_process.forget()
    try:
        if _this_process.is_cache_down():
            raise ConnectionError("left alone since it failed")
        cache.set(GENERATION_KEY, (_new_generation(), changes), timeout=None)
    except Exception as error:  # the cache is unreachable: announce the change as soon as it is back
        _this_process.unannounced = changes
        logger.warning("Could not invalidate the public page cache: %s", error)
    else:
        _this_process.unannounced = None


def catch_up() -> bool:
    """Announce the last change to the live site if the shared cache has not heard of it
    (or holds a count the database never reached: a restored backup). Returns whether it had to.

    The cache is read before the database: a change committing in between is then seen
    either by its own announcement or by the next comparison, never lost. Of the servers
    that find the same change unannounced at once, one announces it."""
    current = cache.get(GENERATION_KEY)
    if current is None:
        current = _start_generation()
        if current is None:  # a cache that keeps nothing (DummyCache): nothing to catch up with
            return False
    announced = _announced(current)[1]
    changes = LiveSite.objects.values_list("changes", flat=True).first() or 0
    if announced == changes or not cache.add(f"public:catching-up:{announced}:{changes}", True, timeout=5):
        return False
    # None: a cache that started afresh (a restarted Redis) and so knows no count yet.
    log = logger.info if announced is None else logger.warning
    log(
        "Announcing a change to the live site the public page cache had not heard of (%s, announced %s)",
        changes,
        announced,
    )
    cache.set(GENERATION_KEY, (_new_generation(), changes), timeout=None)
    _this_process.generation = None  # this process reads the new one on its next request
    if _this_process.unannounced is not None and _this_process.unannounced <= changes:
        _this_process.unannounced = None  # announced now
    return True


def _keep_catching_up() -> None:
    failing = False
    while True:
        time.sleep(settings.PUBLIC_CACHE_VERIFY_SECONDS)
        close_old_connections()
        try:
            with watchdog.guarding():  # a database that stops answering costs a bounded wait here too
                catch_up()
        except Exception as error:  # the database or the cache is down: try again next time
            if not failing:  # said once per outage, not every second
                logger.warning("Could not compare the live site with the public page cache: %s", error)
            failing = True
        else:
            failing = False


_watching = False


def watch_live_site() -> None:
    """In an app server process: compare the database's count of changes to the live site
    with the shared cache's every PUBLIC_CACHE_VERIFY_SECONDS, in a thread of its own (and
    in each process forked from this one, such as gunicorn's workers)."""
    global _watching
    if not is_enabled() or not settings.PUBLIC_CACHE_VERIFY_SECONDS:
        return
    if not _watching:
        os.register_at_fork(after_in_child=_start_watching)
    _watching = True
    _start_watching()


def _start_watching() -> None:
    threading.Thread(target=_keep_catching_up, name="live-site-watch", daemon=True).start()


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
            stored_at, cached = local.get(key) or (None, None)
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
            response.public_generation, response.public_stored_at = generation, stored_at
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
            else:
                response.public_generation, response.public_stored_at = generation, stored_at
            response["X-Cache"] = "miss"
        return response

    return wrapper


class AnswerFromMemory:
    """The first middleware: a public page this process served lately is answered again
    exactly as it left the site's middleware the first time (its body and every header:
    security headers and content security policy included), before any other middleware
    or the URL resolver runs, so that a cached page costs what a bare Django view does.

    Kept per scheme, host and path, under the generation it was served in: a change to the
    live site forgets it with every other page this process holds, and it is kept no longer
    than the page it was made from (PUBLIC_CACHE_SECONDS). Only what the cache above served
    or stored is kept, and never an answer that sets a cookie, depends on one, or carries a
    nonce. GET only; everything else goes down the stack as usual."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = self.where(request)
        if where is not None and (kept := _this_process.get(f"answer:{where[0]}:{where[1]}", answer=True)):
            headers, content = kept[1]
            return HttpResponse(content, headers=dict(headers) | {"X-Cache": "hit"})
        response = self.get_response(request)
        if where is not None and self.may_keep(response):
            # Under the generation the page itself was served in, which a change meanwhile moved on.
            key = f"answer:{response.public_generation}:{where[1]}"
            _this_process.put(key, (list(response.items()), response.content), response.public_stored_at, answer=True)
        return response

    @staticmethod
    def where(request) -> tuple[int, str] | None:
        """The current generation and the request's scheme, host and path; None for a
        request never answered from memory."""
        local = _this_process
        if request.method != "GET" or request.META.get("QUERY_STRING") or not is_enabled() or local.is_cache_down():
            return None  # with a query string, the middleware below checks it (RejectNulMiddleware)
        try:
            generation = _generation()
            if generation is None:
                return None
            return generation, f"{request.scheme}:{request.get_host()}:{request.path}"
        except Exception:  # a bad host, an unreachable cache: the stack below answers, and says so
            return None

    @staticmethod
    def may_keep(response) -> bool:
        varies = {part.strip().lower() for part in response.get("Vary", "").split(",") if part.strip()}
        policies = response.get("Content-Security-Policy", "") + response.get("Content-Security-Policy-Report-Only", "")
        return (
            response.status_code == 200
            and hasattr(response, "public_generation")  # served or stored by the cache above
            and not response.cookies
            and varies <= {"accept-language"}  # the same for every reader of this address
            and "'nonce-" not in policies
        )
