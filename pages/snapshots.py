"""Building live snapshots: rendering a snapshot's frozen wording with the live site
around it (other pages' addresses and live titles in breadcrumbs, related and child
lists, and whether a link to them can be followed), and rebuilding the snapshots that
show a page when it is published, withdrawn or moved. Runs in the caller's
transaction, under the live-site lock."""

import contextlib
import functools
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.template.loader import get_template
from django.urls import reverse
from django.utils.text import slugify

from config.database.base import watchdog
from pages import languages as site_languages
from pages import rendering, richtext, search
from pages.live_site import hold_live_site, lock_live_site
from pages.models import LiveSnapshot, Page

logger = logging.getLogger(__name__)


def rebuild_dependents(pages: Sequence[Page], *, exclude: set[int] = frozenset()) -> int:
    """Rebuild the snapshots that show one of ``pages``: links to them, their parents'
    child lists, their children's breadcrumbs. Runs in the caller's transaction
    (publishing, withdrawing or a move), and returns how many are left waiting
    (see :func:`_rebuild_some`)."""
    lock_live_site()
    ids = [page.pk for page in pages]
    parent_ids = [page.parent_id for page in pages if page.parent_id]
    dependents = (
        LiveSnapshot.objects.filter(references__in=ids) | LiveSnapshot.objects.filter(page_id__in=parent_ids)
    ).exclude(pk__in=exclude)
    return _rebuild_some(dependents.distinct())


def refresh_moved_pages(pages: Sequence[Page]) -> int:
    """After pages moved (their path or place changed), give their snapshots the new
    address and rebuild them and everything that shows them. Runs in the caller's
    transaction, and returns how many are left waiting (see :func:`_rebuild_some`)."""
    lock_live_site()
    for page in pages:
        LiveSnapshot.objects.filter(page=page).update(path=page.path)
    moved = LiveSnapshot.objects.filter(page__in=pages)
    moved.mark_waiting()  # stored with the old address: composed again before they are served
    exclude = set(moved.values_list("pk", flat=True))
    return _rebuild_some(moved) + rebuild_dependents(pages, exclude=exclude)


def _rebuild_some(snapshots: QuerySet) -> int:
    """Compose again and store at most DEPENDENTS_REBUILT_AT_ONCE of ``snapshots``, so that
    a hub shown by thousands of pages publishes in seconds, and mark the rest as waiting, in
    the caller's transaction; returns how many wait. From its commit, readers get those
    composed on each request with the live site as it is (never a link to a page that is
    gone, never wording not signed off), until :func:`rebuild_waiting` stores them again, in
    a thread of this process (:func:`rebuild_in_background`) or from ``manage.py
    rebuild_waiting_pages``."""
    snapshots = snapshots.order_by("pk")
    now = list(snapshots.select_related("page")[: settings.DEPENDENTS_REBUILT_AT_ONCE])
    later = 0
    if len(now) == settings.DEPENDENTS_REBUILT_AT_ONCE:  # perhaps more
        later = (
            LiveSnapshot.objects.filter(pk__in=snapshots.values("pk"))
            .exclude(pk__in=[snapshot.pk for snapshot in now])
            .mark_waiting()
        )
    _rebuild(now)
    if later:
        transaction.on_commit(rebuild_in_background, robust=True)
    return later


def rebuild_waiting(limit: int | None = None, *, after: int = 0) -> tuple[list[int], list[int]]:
    """Compose again and store up to ``limit`` (REBUILD_BATCH) of the snapshots waiting for
    it, in the order they were made, from the first after ``after``; one transaction under
    the live-site lock, counting no change to the live site, since readers already get them
    composed as they are stored. Returns the ids taken and those that failed: each fails on
    its own (and is logged), staying as it was, waiting."""
    failed = []
    with transaction.atomic():
        hold_live_site()
        waiting = LiveSnapshot.objects.filter(needs_rebuild=True, pk__gt=after).select_related("page")
        waiting = list(waiting.order_by("pk")[: limit or settings.REBUILD_BATCH])
        for snapshot in waiting:
            try:
                with transaction.atomic():
                    _rebuild([snapshot])
            except Exception:
                logger.exception("Could not compose %s again; it is composed on each request meanwhile", snapshot)
                failed.append(snapshot.pk)
    return [snapshot.pk for snapshot in waiting], failed


def rebuild_all_waiting(report: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """:func:`rebuild_waiting` through every snapshot waiting (one transaction a batch, so
    publishing goes on in between); returns how many were rebuilt and how many failed, and
    tells ``report`` both so far after each batch."""
    done = failures = last = 0
    while True:
        taken, failed = rebuild_waiting(after=last)
        if not taken:
            return done, failures
        last, done, failures = taken[-1], done + len(taken) - len(failed), failures + len(failed)
        if report:
            report(done, failures)


_wanted = threading.Event()
_worker_started = threading.Lock()
_worker_pid: int | None = None


def keep_rebuilding() -> None:
    """In an app server process (and each forked from it): a thread that rebuilds the
    snapshots waiting, when a change made here leaves some (:func:`rebuild_in_background`)
    and every REBUILD_CHECK_SECONDS, for those a stopped process left. Off with
    REBUILD_IN_BACKGROUND."""
    if not settings.REBUILD_IN_BACKGROUND:
        return
    os.register_at_fork(after_in_child=_start_worker)
    _start_worker()
    _wanted.set()  # what was left waiting while no server ran


def rebuild_in_background() -> None:
    """Have this process's rebuilding thread (started now if need be) rebuild every snapshot
    waiting, unless REBUILD_IN_BACKGROUND is off. Whatever a process leaves when it stops is
    taken up by another app server's next check, or ``manage.py rebuild_waiting_pages``:
    slower pages meanwhile, never wrong ones."""
    if not settings.REBUILD_IN_BACKGROUND or _left_to_the_caller:
        return
    _start_worker()
    _wanted.set()


_left_to_the_caller = False


@contextlib.contextmanager
def rebuilt_by_the_caller():
    """Inside the block, the pages that changes made by this process (and processes forked
    from it) leave waiting are not rebuilt in the background: the caller rebuilds them once,
    with :func:`rebuild_all_waiting`, instead of a thread racing each change for the live
    site (a bulk build)."""
    global _left_to_the_caller
    _left_to_the_caller = True
    try:
        yield
    finally:
        _left_to_the_caller = False


def _start_worker() -> None:
    global _worker_pid
    with _worker_started:
        if _worker_pid != os.getpid():  # none yet, or this process was forked from one that had it
            threading.Thread(target=_rebuild_when_wanted, name="rebuild-waiting", daemon=True).start()
            _worker_pid = os.getpid()


def _rebuild_when_wanted() -> None:
    while True:
        _wanted.wait(timeout=settings.REBUILD_CHECK_SECONDS)
        _wanted.clear()
        if not settings.REBUILD_IN_BACKGROUND:
            continue
        try:
            with watchdog.guarding():  # a database that stops answering costs a bounded wait here too
                if LiveSnapshot.objects.filter(needs_rebuild=True).exists():
                    rebuild_all_waiting()
        except Exception:
            logger.exception("Rebuilding the pages waiting for it failed; they are composed on each request meanwhile")
        finally:
            connection.close()


def _rebuild(dependents: list[LiveSnapshot]) -> None:
    """Compose each of ``dependents`` again and store it, unless its content, and the pages it
    shows, come out as they were (a hub published again under the same title, for its
    hundreds of children): nothing it would render has changed."""
    shown: dict[int, set[int]] = {snapshot.pk: set() for snapshot in dependents}
    for snapshot_id, page_id in LiveSnapshot.references.through.objects.filter(
        livesnapshot_id__in=list(shown)
    ).values_list("livesnapshot_id", "page_id"):
        shown[snapshot_id].add(page_id)
    for snapshot in dependents:
        before = (snapshot.title, snapshot.summary, snapshot.content, snapshot.html_key)
        referenced = compose(snapshot)
        unchanged = (snapshot.title, snapshot.summary, snapshot.content, rendering.key()) == before
        if unchanged and referenced == shown[snapshot.pk] and not snapshot.needs_rebuild:
            continue
        _store(snapshot, referenced)


@functools.cache
def template_ids() -> frozenset[str]:
    """The ids the public page's templates give their own parts (``main``, the search
    box...): section and term anchors never take one of them."""
    ids = set()
    for name in rendering.TEMPLATES:
        ids |= set(re.findall(r'\bid="([^"{]+)"', get_template(name).template.source))
    return frozenset(ids)


def build(snapshot: LiveSnapshot) -> None:
    """Render ``snapshot.content`` from its frozen source and the live site around it, and save it."""
    _store(snapshot, compose(snapshot))


def _store(snapshot: LiveSnapshot, referenced: set[int]) -> None:
    snapshot.needs_rebuild = False  # composed just now, with the live site as it is
    rendering.store(snapshot)
    snapshot.search_document = search.document(snapshot)
    fields = ["title", "summary", "content", "search_document", "needs_rebuild", *rendering.STORED_FIELDS]
    snapshot.save(update_fields=fields)
    snapshot.references.set(referenced)


def compose(snapshot: LiveSnapshot) -> set[int]:
    """Set ``snapshot``'s title, summary and content from its frozen source and the
    live site around it, without saving (a preview uses this as it is). Returns the
    ids of the pages it shows."""
    language = snapshot.language
    source = snapshot.source
    page = snapshot.page
    ancestors = page.ancestors()
    children = list(page.children.order_by("position", "path").values_list("pk", flat=True))
    linked = set().union(*(richtext.page_references(s["body"]["text"]) for s in source["sections"]))
    referenced = {p.pk for p in ancestors} | set(children) | set(source["related"]) | linked
    # The source language's version stands in for the languages a page is not live in: its
    # breadcrumbs and lists of pages are in each reader's language too, where they are live in it.
    readers = (
        [code for code in site_languages.codes() if code != language] if language == site_languages.source() else []
    )
    live_for = _live_titles(referenced, [language, *readers])
    live = live_for[language]

    def navigation(live: dict[int, dict]) -> dict[str, list[dict]]:
        return {
            "breadcrumbs": [live[p.pk] for p in ancestors if p.pk in live],
            "children": [live[pk] for pk in children if pk in live],
            "related": [live[pk] for pk in source["related"] if pk in live],
        }

    def url_for_page(page_id: int) -> str | None:
        return live[page_id]["url"] if page_id in live else None

    taken = set(template_ids())
    term_anchors: dict[tuple[str, str], str] = {}

    def anchor_for_term(name: str, definition: str) -> str:
        # The same term with two definitions gets two entries, never one silently.
        if (name, definition) not in term_anchors:
            term_anchors[name, definition] = _unique(f"term-{name}", taken)
        return term_anchors[name, definition]

    sections, terms = [], {}
    for number, section in enumerate(source["sections"], start=1):
        rendered = richtext.render(section["body"]["text"], url_for_page=url_for_page, anchor_for_term=anchor_for_term)
        anchor = slugify(section["heading"]["text"], allow_unicode=True) or f"section-{number}"
        anchor = _unique(f"section-{anchor}" if anchor.startswith("term-") else anchor, taken)
        sections.append(
            {
                "anchor": anchor,
                "heading": section["heading"]["text"],
                "heading_lang": section["heading"]["lang"],
                "html": rendered.html,
                "lang": section["body"]["lang"],
            }
        )
        for term in rendered.terms:
            terms.setdefault(term["anchor"], term | {"lang": section["body"]["lang"]})

    languages_used = {source["title"]["lang"], source["summary"]["lang"]}
    languages_used |= {s["lang"] for s in sections} | {s["heading_lang"] for s in sections}
    snapshot.title = source["title"]["text"]
    snapshot.summary = source["summary"]["text"]
    snapshot.content = {
        "title_lang": source["title"]["lang"],
        "summary_lang": source["summary"]["lang"],
        "sections": sections,
        "terms": list(terms.values()),
        **navigation(live),
        "has_untranslated_parts": languages_used != {language},
        "is_sample_content": source.get("is_sample_content", False),
    }
    if readers:
        snapshot.content["navigation_for"] = {code: navigation(live_for[code]) for code in readers}
    return referenced


def _live_titles(page_ids: set[int], readers: list[str]) -> dict[str, dict[int, dict]]:
    """For each language of ``readers``, for each page with a live version: its title in
    that language (or the source language's) and its public address in it."""
    rows = LiveSnapshot.objects.live().filter(page_id__in=page_ids).values_list("page_id", "language", "title", "path")
    titles: dict[int, dict[str, str]] = {}
    paths: dict[int, str] = {}
    for page_id, lang, title, path in rows:
        titles.setdefault(page_id, {})[lang] = title
        paths[page_id] = path
    live_for = {}
    for language in readers:
        live = live_for[language] = {}
        for page_id, by_language in titles.items():
            lang = language if language in by_language else site_languages.source()
            lang = lang if lang in by_language else next(iter(by_language))
            # The reader's language works when the page is live in it or in the source
            # language (the fallback); otherwise link the language it is live in.
            url_language = language if lang in (language, site_languages.source()) else lang
            live[page_id] = {
                "title": by_language[lang],
                "lang": lang,
                "url": reverse("pages:page", kwargs={"language": url_language, "path": paths[page_id]}),
            }
    return live_for


def _unique(anchor: str, taken: set[str]) -> str:
    candidate, number = anchor, 2
    while candidate in taken:
        candidate, number = f"{anchor}-{number}", number + 1
    taken.add(candidate)
    return candidate
