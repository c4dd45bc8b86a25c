"""Publishing: the one way wording reaches the public. It freezes signed-off wording
(``pages.freezing``), makes it live or takes it down under the live-site lock
(``pages.live_site``), and builds the snapshots the public reads and those that show
them (``pages.snapshots``). Callers (the workflow) check that the wording was signed
off; everything else goes through here.
"""

import datetime
from collections.abc import Iterable, Mapping, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pages import history, rendering, search
from pages import languages as site_languages
from pages.errors import NotTranslated, PublishingError, UnknownLanguage
from pages.freezing import freeze, freeze_for_sign_off, freeze_with_live_fallback
from pages.history import PageState
from pages.live_site import lock_live_site
from pages.models import LiveSnapshot, Page, PageRevision, Publication
from pages.snapshots import build, compose, rebuild_all_waiting, rebuild_dependents, refresh_moved_pages

# The one entry point: what callers use, from wherever it lives.
__all__ = ["NotTranslated", "PublishingError", "UnknownLanguage", "build", "compose", "freeze"]
__all__ += ["freeze_for_sign_off", "lock_live_site", "preview", "publish", "rebuild_dependents"]
__all__ += ["rebuild_all_waiting", "refresh_moved_pages", "render_again", "withdraw"]


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
    all in one transaction: at most DEPENDENTS_REBUILT_AT_ONCE of them, the rest
    marked as waiting (``pages.snapshots``). Callers check that the wording was signed off.
    """
    site_languages.check(language)
    if not signed_off_by.strip():
        raise PublishingError(_("Say who signed this version off."))
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


def withdraw(*, page: Page, reason: str, translations: Mapping[str, str] | None = None) -> list[LiveSnapshot]:
    """Take ``page`` off the public site in every language, keeping its snapshots
    (and so its history) for the record: its address answers 410 Gone with the
    reason, and links to it elsewhere become plain text. ``reason`` is in the source
    language; ``translations`` give it in others, and a language without one shows
    the source language's (its snapshot records which language that is)."""
    if not reason.strip():
        raise PublishingError(_("Say why the page is withdrawn; readers are told."))
    given = {code: text.strip() for code, text in (translations or {}).items() if text and text.strip()}
    for code in given:
        site_languages.check(code)
    given[site_languages.source()] = reason.strip()
    with transaction.atomic():
        lock_live_site()
        snapshots = list(LiveSnapshot.objects.live().select_for_update().filter(page=page))
        if not snapshots:
            raise PublishingError(_("“%(page)s” is not live.") % {"page": page})
        now = timezone.now()
        for snapshot in snapshots:
            language = snapshot.language if snapshot.language in given else site_languages.source()
            LiveSnapshot.objects.filter(pk=snapshot.pk).update(
                withdrawn_at=now,
                withdrawal_reason=given[language],
                withdrawal_reason_language=language,
                html="",
                html_key="",
                text="",
                search_document=None,
                fallback_html={},
            )
        _record_live_languages([page])
        rebuild_dependents([page], exclude={s.pk for s in snapshots})
    return snapshots


def _record_live_languages(pages: Iterable[Page]) -> dict[int, list[str]]:
    order = {code: index for index, code in enumerate(site_languages.codes())}
    recorded = {}
    for page in pages:
        live_now = list(LiveSnapshot.objects.live().filter(page=page).select_related("page"))
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


def render_again(snapshot_ids: Sequence[int]) -> int:
    """Render the live versions among ``snapshot_ids`` again with today's templates and
    store them (after a deploy, or restoring a backup); returns how many. Runs in one
    transaction, so a publish at the same moment neither overwrites it nor is overwritten."""
    done = 0
    with transaction.atomic():
        lock_live_site()
        live = LiveSnapshot.objects.filter(pk__in=snapshot_ids).live().select_related("page")
        for snapshot in live:
            # Composed again too, with the live site as it is: when a page it shows changed, and a
            # source-language version composed before it kept navigation for other languages' readers.
            stale = snapshot.language == site_languages.source() and "navigation_for" not in snapshot.content
            if snapshot.needs_rebuild or (stale and len(site_languages.codes()) > 1):
                build(snapshot)
            else:
                rendering.store(snapshot)
                snapshot.search_document = search.document(snapshot)  # its text may be extracted anew
                snapshot.save(update_fields=[*rendering.STORED_FIELDS, "search_document"])
            done += 1
    return done


def preview(
    page: Page, page_revision: PageRevision | PageState, language: str, *, next_review_due: datetime.date
) -> LiveSnapshot:
    """What ``page`` would be in ``language`` if its revision ``page_revision`` (or a state of
    it not saved yet, from the form) were signed off and published today: an unsaved snapshot,
    rendered with the live site around it. Raises as freezing does."""
    state = page_revision if isinstance(page_revision, PageState) else history.page_state(page_revision)
    snapshot = LiveSnapshot(
        page=page,
        language=language,
        path=page.path,
        source=freeze_with_live_fallback(state, page.pk, language),
        languages=[language],
        last_reviewed=timezone.localdate(),
        next_review_due=next_review_due,
        signed_off_by="",
    )
    compose(snapshot)
    return snapshot
