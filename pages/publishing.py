"""Publishing: building the live snapshots the public reads.

A snapshot freezes the wording of one page in one language at the moment it is
published (its ``source``) and renders it (its ``content``). Anything that
belongs to *other* pages (their addresses, their live titles in breadcrumbs,
related and child lists, and whether a link to them can be followed) is looked
up when rendering, so a move, rename or withdrawal elsewhere is a rebuild from
the same frozen wording: no public link breaks and no approved sentence changes.
"""

import datetime
import re
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from modeltranslation.utils import build_localized_fieldname

from pages import richtext
from pages.models import LiveSnapshot, Page, Section


class PublishingError(Exception):
    """Publishing was refused; the message says why, for the person who asked."""


class UnknownLanguage(PublishingError):
    pass


class NotTranslated(PublishingError):
    pass


class InvalidReviewDates(PublishingError):
    pass


def source_language() -> str:
    return settings.LANGUAGE_CODE


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _text(obj, field: str, language: str) -> dict:
    """The field's text in ``language``, or the source language's, saying which."""
    for lang in (language, source_language()):
        value = getattr(obj, build_localized_fieldname(field, lang)) or ""
        if value.strip():
            return {"text": value, "lang": lang}
    return {"text": "", "lang": language}


def freeze(page: Page, sections: Sequence[Section], language: str) -> dict:
    """The wording of ``page`` in ``language`` as it will be published.

    A section not yet translated keeps its source-language wording, marked as
    such, so the page can say so rather than mix languages silently.
    """
    return {
        "title": _text(page, "title", language),
        "summary": _text(page, "summary", language),
        "sections": [
            {"heading": _text(section, "heading", language), "body": _text(section, "body", language)}
            for section in sections
        ],
        "related": [related.pk for related in page.related.all()],
        "is_sample_content": page.is_sample_content,
    }


def publish_page(
    *,
    page: Page,
    languages: Iterable[str],
    last_reviewed: datetime.date,
    next_review_due: datetime.date,
    signed_off_by: str,
    published_by: AbstractBaseUser | None = None,
) -> list[LiveSnapshot]:
    """Make the current wording of ``page`` live in each of ``languages``.

    Writes one snapshot per language and rebuilds the snapshots of other pages
    that show this one (links, breadcrumbs, related and child lists), all in one
    transaction. Raises UnknownLanguage, NotTranslated or InvalidReviewDates, and
    then writes nothing.
    """
    languages = list(dict.fromkeys(languages))
    if not languages:
        raise UnknownLanguage("Choose at least one language to publish.")
    unknown = [code for code in languages if code not in language_codes()]
    if unknown:
        raise UnknownLanguage(f"Unknown language {', '.join(unknown)}: this site has {', '.join(language_codes())}.")
    if next_review_due <= last_reviewed:
        raise InvalidReviewDates(
            f"The next review ({next_review_due:%d %b %Y}) must come after the last review ({last_reviewed:%d %b %Y})."
        )
    if not signed_off_by.strip():
        raise PublishingError("Say who signed this version off.")

    with transaction.atomic():
        page = Page.objects.select_for_update().get(pk=page.pk)
        sections = list(page.sections.all())
        untranslated = [code for code in languages if not (getattr(page, f"title_{code}") or "").strip()]
        if untranslated:
            raise NotTranslated(
                f"“{page}” has no title in {', '.join(untranslated)}: translate it before publishing that language."
            )
        now = timezone.now()
        snapshots = []
        for language in languages:
            snapshot, _created = LiveSnapshot.objects.update_or_create(
                page=page,
                language=language,
                defaults={
                    "path": page.path,
                    "source": freeze(page, sections, language),
                    "last_reviewed": last_reviewed,
                    "next_review_due": next_review_due,
                    "signed_off_by": signed_off_by.strip(),
                    "published_at": now,
                    "published_by": published_by,
                },
            )
            build(snapshot)
            snapshots.append(snapshot)
        _record_live_languages([page])
        rebuild_dependents([page], exclude={s.pk for s in snapshots})
    return snapshots


def _record_live_languages(pages: Iterable[Page]) -> None:
    order = {code: index for index, code in enumerate(language_codes())}
    for page in pages:
        live = sorted(LiveSnapshot.objects.filter(page=page).values_list("language", flat=True), key=order.get)
        LiveSnapshot.objects.filter(page=page).update(languages=live)


def rebuild_dependents(pages: Sequence[Page], *, exclude: set[int] = frozenset()) -> None:
    """Rebuild every snapshot that shows one of ``pages``: links to them, their
    parents' child lists, their children's breadcrumbs."""
    ids = [page.pk for page in pages]
    parent_ids = [page.parent_id for page in pages if page.parent_id]
    dependents = (
        LiveSnapshot.objects.filter(references__in=ids) | LiveSnapshot.objects.filter(page_id__in=parent_ids)
    ).exclude(pk__in=exclude)
    for snapshot in dependents.distinct().select_related("page"):
        build(snapshot)


def refresh_moved_pages(pages: Sequence[Page]) -> None:
    """After pages moved (their path changed), give their snapshots the new
    address and rebuild everything that shows them."""
    snapshots = []
    for page in pages:
        LiveSnapshot.objects.filter(page=page).update(path=page.path)
        snapshots.extend(LiveSnapshot.objects.filter(page=page).select_related("page"))
    for snapshot in snapshots:
        build(snapshot)
    rebuild_dependents(pages, exclude={s.pk for s in snapshots})


PAGE_REFERENCE = re.compile(r'href="page:([1-9][0-9]*)"')


def build(snapshot: LiveSnapshot) -> None:
    """Render ``snapshot.content`` from its frozen source and the live site around it."""
    language = snapshot.language
    source = snapshot.source
    page = snapshot.page
    ancestors = page.ancestors()
    children = list(page.children.order_by("position", "path").values_list("pk", flat=True))
    linked = {int(pk) for section in source["sections"] for pk in PAGE_REFERENCE.findall(section["body"]["text"])}
    referenced = {p.pk for p in ancestors} | set(children) | set(source["related"]) | linked
    live = _live_titles(referenced, language)

    def url_for_page(page_id: int) -> str | None:
        return live[page_id]["url"] if page_id in live else None

    sections, terms, anchors = [], [], set()
    for number, section in enumerate(source["sections"], start=1):
        rendered = richtext.render(section["body"]["text"], url_for_page=url_for_page)
        anchor = _unique(slugify(section["heading"]["text"], allow_unicode=True) or f"section-{number}", anchors)
        sections.append(
            {
                "anchor": anchor,
                "heading": section["heading"]["text"],
                "heading_lang": section["heading"]["lang"],
                "html": rendered.html,
                "lang": section["body"]["lang"],
            }
        )
        known = {term["slug"] for term in terms}
        terms.extend(term | {"lang": section["body"]["lang"]} for term in rendered.terms if term["slug"] not in known)

    languages_used = {source["title"]["lang"], source["summary"]["lang"]}
    languages_used |= {s["lang"] for s in sections} | {s["heading_lang"] for s in sections}
    snapshot.title = source["title"]["text"]
    snapshot.summary = source["summary"]["text"]
    snapshot.content = {
        "title_lang": source["title"]["lang"],
        "summary_lang": source["summary"]["lang"],
        "sections": sections,
        "terms": terms,
        "breadcrumbs": [live[p.pk] for p in ancestors if p.pk in live],
        "children": [live[pk] for pk in children if pk in live],
        "related": [live[pk] for pk in source["related"] if pk in live],
        "has_untranslated_parts": languages_used != {language},
        "is_sample_content": source.get("is_sample_content", False),
    }
    snapshot.save(update_fields=["title", "summary", "content"])
    snapshot.references.set(referenced)


def _live_titles(page_ids: set[int], language: str) -> dict[int, dict]:
    """For each page with a live version: its title in ``language`` (or the
    source language's) and its public address in ``language``."""
    rows = LiveSnapshot.objects.filter(page_id__in=page_ids).values_list("page_id", "language", "title", "path")
    titles: dict[int, dict[str, str]] = {}
    paths: dict[int, str] = {}
    for page_id, lang, title, path in rows:
        titles.setdefault(page_id, {})[lang] = title
        paths[page_id] = path
    live = {}
    for page_id, by_language in titles.items():
        lang = language if language in by_language else source_language()
        lang = lang if lang in by_language else next(iter(by_language))
        live[page_id] = {
            "title": by_language[lang],
            "lang": lang,
            "url": reverse("pages:page", kwargs={"language": language, "path": paths[page_id]}),
        }
    return live


def _unique(anchor: str, taken: set[str]) -> str:
    candidate, number = anchor, 2
    while candidate in taken:
        candidate, number = f"{anchor}-{number}", number + 1
    taken.add(candidate)
    return candidate
