"""Building live snapshots: rendering a snapshot's frozen wording with the live site
around it (other pages' addresses and live titles in breadcrumbs, related and child
lists, and whether a link to them can be followed), and rebuilding the snapshots that
show a page when it is published, withdrawn or moved. Runs in the caller's
transaction, under the live-site lock."""

import functools
import re
from collections.abc import Sequence

from django.template.loader import get_template
from django.urls import reverse
from django.utils.text import slugify

from pages import languages as site_languages
from pages import rendering, richtext, search
from pages.live_site import lock_live_site
from pages.models import LiveSnapshot, Page


def rebuild_dependents(pages: Sequence[Page], *, exclude: set[int] = frozenset()) -> None:
    """Rebuild every snapshot that shows one of ``pages``: links to them, their
    parents' child lists, their children's breadcrumbs. Runs in the caller's
    transaction (publishing, withdrawing or a move).

    Each is composed again; one whose content, and the pages it shows, come out as they
    were (a hub published again under the same title, for its hundreds of children) is
    left as it is, since nothing it would render has changed."""
    lock_live_site()
    ids = [page.pk for page in pages]
    parent_ids = [page.parent_id for page in pages if page.parent_id]
    dependents = (
        LiveSnapshot.objects.filter(references__in=ids) | LiveSnapshot.objects.filter(page_id__in=parent_ids)
    ).exclude(pk__in=exclude)
    dependents = list(dependents.distinct().select_related("page"))
    shown: dict[int, set[int]] = {snapshot.pk: set() for snapshot in dependents}
    for snapshot_id, page_id in LiveSnapshot.references.through.objects.filter(
        livesnapshot_id__in=list(shown)
    ).values_list("livesnapshot_id", "page_id"):
        shown[snapshot_id].add(page_id)
    for snapshot in dependents:
        before = (snapshot.title, snapshot.summary, snapshot.content, snapshot.html_key)
        referenced = compose(snapshot)
        if (snapshot.title, snapshot.summary, snapshot.content, rendering.key()) == before and referenced == shown[
            snapshot.pk
        ]:
            continue
        _store(snapshot, referenced)


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
    rendering.store(snapshot)
    snapshot.search_document = search.document(snapshot)
    snapshot.save(update_fields=["title", "summary", "content", "search_document", *rendering.STORED_FIELDS])
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
    rows = LiveSnapshot.objects.live().filter(page_id__in=page_ids).values_list("page_id", "language", "title", "path")
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
