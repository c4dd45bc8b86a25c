"""Publishing: building the live snapshots the public reads.

A snapshot freezes the wording of one page in one language at the moment it is
published (its ``source``) and renders it (its ``content``). Anything that
belongs to *other* pages (their addresses, their live titles in breadcrumbs,
related and child lists, and whether a link to them can be followed) is looked
up when rendering, so a move, rename or withdrawal elsewhere is a rebuild from
the same frozen wording: no public link breaks and no approved sentence changes.
"""

import datetime
import functools
import re
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from modeltranslation.utils import build_localized_fieldname

from pages import cache, history, rendering, richtext
from pages import languages as site_languages
from pages.history import PageState
from pages.models import LiveSite, LiveSnapshot, Page, PageRevision, Publication


class PublishingError(Exception):
    """Publishing was refused; the message says why, for the person who asked."""


class UnknownLanguage(PublishingError):
    pass


class NotTranslated(PublishingError):
    pass


def _part(values: dict, field: str, language: str) -> dict | None:
    value = values.get(build_localized_fieldname(field, language)) or ""
    return {"text": value, "lang": language} if value.strip() else None


def freeze(state: PageState, language: str, *, fallback: dict | None = None) -> dict:
    """The wording of a page revision (``state``) in ``language``, as it will be published.

    A part not yet translated is taken from ``fallback``, the frozen wording of
    the source language as signed off (never its working copy), marked as such so
    that the page can say so. Raises NotTranslated when the title, or a section,
    has neither a translation nor signed-off source-language wording, and
    PublishingError when a body holds markup the site would drop.
    """
    source = site_languages.source()
    title = _part(state.page, "title", language)
    if title is None:
        raise NotTranslated(f"The page has no title in {language}: translate it before publishing that language.")
    empty = {"text": "", "lang": language}
    fallback_sections = {section.get("id"): section for section in (fallback or {}).get("sections", [])}
    frozen_sections = []
    for section in state.sections:
        approved = fallback_sections.get(section["id"], {})
        heading = _part(section, "heading", language) or approved.get("heading")
        body = _part(section, "body", language) or approved.get("body") or empty
        label = section.get(f"heading_{source}") or section["id"]
        if heading is None:
            raise NotTranslated(
                f"The section “{label}” has no {language} text and no signed-off {source} text "
                f"to show instead: translate it, or publish {source} first."
            )
        if losses := richtext.inspect(body["text"]).losses:
            raise PublishingError(f"The section “{label}” holds markup the site would drop: {', '.join(losses)}.")
        frozen_sections.append({"id": section["id"], "heading": heading, "body": body})
    return {
        "title": title,
        "summary": _part(state.page, "summary", language) or (fallback or {}).get("summary") or empty,
        "sections": frozen_sections,
        "related": list(state.page.get("related") or []),
        "is_sample_content": bool(state.page.get("is_sample_content")),
    }


def freeze_for_sign_off(page_revision: PageRevision, language: str) -> dict:
    """What ``language``'s readers would see of ``page_revision`` if it were signed off
    now: its own wording, and for untranslated parts the source language's live
    (signed-off) wording. Raises as :func:`freeze` does."""
    state = history.page_state(page_revision)
    if language == site_languages.source():
        return freeze(state, language)
    live_source = LiveSnapshot.objects.filter(
        page_id=page_revision.page_id, language=site_languages.source(), withdrawn_at__isnull=True
    ).first()
    return freeze(state, language, fallback=live_source.source if live_source else None)


# Changing what is live rebuilds other pages' snapshots too (links, breadcrumbs, child
# lists), so two changes at once could each rebuild from a state the other is replacing,
# or wait on each other's rows for ever. Each counts itself first in the one LiveSite row,
# whose lock it keeps until its transaction ends: changes to the live site happen one at a
# time (they are rare), and each is recorded, with the data, for the public cache.
def lock_live_site() -> int:
    """Wait for, then hold until the end of the transaction, the right to change what is
    live; count the change; and have the public cache forget every page once that
    transaction commits. Returns the live site's count of changes, this one included.

    Every change to what the public sees takes this lock, so this is the one place the
    cache is told: once per transaction, however many pages the change touches."""
    if not connection.in_atomic_block:
        raise RuntimeError("Change the live site inside a transaction (transaction.atomic).")
    table = connection.ops.quote_name(LiveSite._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, changes) VALUES (1, 1) "
            f"ON CONFLICT (id) DO UPDATE SET changes = {table}.changes + 1 RETURNING changes"
        )
        (changes,) = cursor.fetchone()
    cache.invalidate(changes)
    return changes


def publish(
    *,
    page: Page,
    language: str,
    wording: dict,
    revision: PageRevision | None,
    last_reviewed: datetime.date,
    next_review_due: datetime.date,
    signed_off_by: str,
    published_by: AbstractBaseUser | None = None,
) -> LiveSnapshot:
    """Make ``wording`` (from :func:`freeze`) the live version of ``page`` in ``language``.

    Writes the snapshot and a Publication log row, and rebuilds the snapshots of
    other pages that show this one (links, breadcrumbs, related and child lists),
    all in one transaction. Callers check that the wording was signed off.
    """
    if not site_languages.is_known(language):
        raise UnknownLanguage(f"Unknown language {language}: this site has {', '.join(site_languages.codes())}.")
    if not signed_off_by.strip():
        raise PublishingError("Say who signed this version off.")
    with transaction.atomic():
        lock_live_site()
        page = Page.objects.select_for_update().get(pk=page.pk)
        now = timezone.now()
        snapshot, _created = LiveSnapshot.objects.update_or_create(
            page=page,
            language=language,
            defaults={
                "path": page.path,
                "source": wording,
                "last_reviewed": last_reviewed,
                "next_review_due": next_review_due,
                "signed_off_by": signed_off_by.strip(),
                "published_at": now,
                "published_by": published_by,
                "revision": revision,
                "withdrawn_at": None,
                "withdrawal_reason": "",
            },
        )
        Publication.objects.create(
            page=page,
            language=language,
            revision=revision,
            published_at=now,
            published_by=published_by,
            signed_off_by=snapshot.signed_off_by,
            last_reviewed=last_reviewed,
            next_review_due=next_review_due,
        )
        build(snapshot)
        snapshot.languages = _record_live_languages([page])[page.pk]
        rebuild_dependents([page], exclude={snapshot.pk})
    return snapshot


def withdraw(*, page: Page, reason: str) -> list[LiveSnapshot]:
    """Take ``page`` off the public site in every language, keeping its snapshots
    (and so its history) for the record: its address answers 410 Gone with
    ``reason``, and links to it elsewhere become plain text."""
    if not reason.strip():
        raise PublishingError("Say why the page is withdrawn; readers are told.")
    with transaction.atomic():
        lock_live_site()
        snapshots = list(LiveSnapshot.objects.select_for_update().filter(page=page, withdrawn_at__isnull=True))
        if not snapshots:
            raise PublishingError(f"“{page}” is not live.")
        LiveSnapshot.objects.filter(pk__in=[s.pk for s in snapshots]).update(
            withdrawn_at=timezone.now(),
            withdrawal_reason=reason.strip(),
            html="",
            html_key="",
            text="",
            fallback_html={},
        )
        _record_live_languages([page])
        rebuild_dependents([page], exclude={s.pk for s in snapshots})
    return snapshots


def _record_live_languages(pages: Iterable[Page]) -> dict[int, list[str]]:
    order = {code: index for index, code in enumerate(site_languages.codes())}
    recorded = {}
    for page in pages:
        live_now = list(LiveSnapshot.objects.filter(page=page, withdrawn_at__isnull=True).select_related("page"))
        live = sorted((snapshot.language for snapshot in live_now), key=order.get)
        LiveSnapshot.objects.filter(page=page).update(languages=live)
        # Each language's page lists the others in its language switcher: rendered again
        # where that list changed (the version just built already has the right one otherwise).
        for snapshot in live_now:
            if snapshot.languages == live:
                continue
            snapshot.languages = live
            rendering.store(snapshot)
            snapshot.save(update_fields=rendering.STORED_FIELDS)
        recorded[page.pk] = live
    return recorded


def rebuild_dependents(pages: Sequence[Page], *, exclude: set[int] = frozenset()) -> None:
    """Rebuild every snapshot that shows one of ``pages``: links to them, their
    parents' child lists, their children's breadcrumbs. Runs in the caller's
    transaction (publishing, withdrawing or a move)."""
    lock_live_site()
    ids = [page.pk for page in pages]
    parent_ids = [page.parent_id for page in pages if page.parent_id]
    dependents = (
        LiveSnapshot.objects.filter(references__in=ids) | LiveSnapshot.objects.filter(page_id__in=parent_ids)
    ).exclude(pk__in=exclude)
    for snapshot in dependents.distinct().select_related("page"):
        build(snapshot)


def refresh_moved_pages(pages: Sequence[Page]) -> None:
    """After pages moved (their path or place changed), give their snapshots the new
    address and rebuild everything that shows them. Runs in the caller's transaction."""
    lock_live_site()
    snapshots = []
    for page in pages:
        LiveSnapshot.objects.filter(page=page).update(path=page.path)
        snapshots.extend(LiveSnapshot.objects.filter(page=page).select_related("page"))
    for snapshot in snapshots:
        build(snapshot)
    rebuild_dependents(pages, exclude={s.pk for s in snapshots})


def render_again(snapshot_ids: Sequence[int]) -> int:
    """Render the live versions among ``snapshot_ids`` again with today's templates and
    store them (after a deploy, or restoring a backup); returns how many. Runs in one
    transaction, so a publish at the same moment neither overwrites it nor is overwritten."""
    done = 0
    with transaction.atomic():
        lock_live_site()
        live = LiveSnapshot.objects.filter(pk__in=snapshot_ids).live().select_related("page")
        for snapshot in live:
            rendering.store(snapshot)
            snapshot.save(update_fields=rendering.STORED_FIELDS)
            done += 1
    return done


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
    referenced = compose(snapshot)
    rendering.store(snapshot)
    snapshot.save(update_fields=["title", "summary", "content", *rendering.STORED_FIELDS])
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
    live = _live_titles(referenced, language)

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
        "breadcrumbs": [live[p.pk] for p in ancestors if p.pk in live],
        "children": [live[pk] for pk in children if pk in live],
        "related": [live[pk] for pk in source["related"] if pk in live],
        "has_untranslated_parts": languages_used != {language},
        "is_sample_content": source.get("is_sample_content", False),
    }
    return referenced


def _live_titles(page_ids: set[int], language: str) -> dict[int, dict]:
    """For each page with a live version: its title in ``language`` (or the
    source language's) and its public address in ``language``."""
    rows = LiveSnapshot.objects.filter(page_id__in=page_ids, withdrawn_at__isnull=True).values_list(
        "page_id", "language", "title", "path"
    )
    titles: dict[int, dict[str, str]] = {}
    paths: dict[int, str] = {}
    for page_id, lang, title, path in rows:
        titles.setdefault(page_id, {})[lang] = title
        paths[page_id] = path
    live = {}
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
    return live


def _unique(anchor: str, taken: set[str]) -> str:
    candidate, number = anchor, 2
    while candidate in taken:
        candidate, number = f"{anchor}-{number}", number + 1
    taken.add(candidate)
    return candidate
