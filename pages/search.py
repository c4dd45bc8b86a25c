"""The public search: live pages in the reader's language only, best matches first,
with the words found highlighted in an excerpt.

On PostgreSQL it is full-text search with the language's own configuration (its
stemming and stop words; `simple` for a language PostgreSQL has none for, such as
Welsh), over each live version's stored search document (written when it is built,
GIN-indexed): a query costs the index lookup and the best matches' excerpts, not a
pass over every page. Elsewhere (SQLite in development) every word must appear, and
pages rank by where: title first, then summary, then text.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Value
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from pages import languages, rendering
from pages.models import LiveSnapshot

MAX_RESULTS = 50
LONGEST_QUERY = 200
# Around each match in an excerpt, marked for highlighting after escaping.
START, STOP = "\x02", "\x03"


@dataclass
class Result:
    title: str
    url: str
    excerpt: SafeString
    excerpt_lang: str  # the language of the summary, when the excerpt is an untranslated one


def find(query: str, language: str) -> list[Result]:
    query = " ".join(query.split())[:LONGEST_QUERY]
    if not re.search(r"\w", query):
        return []
    live = LiveSnapshot.objects.live().filter(language=language)
    if connection.vendor == "postgresql":
        return _postgresql(live, query, language)
    return _anywhere(live, query, language)


def _result(path: str, title: str, language: str, marked: str, excerpt_lang: str = "") -> Result:
    excerpt = escape(marked).replace(START, "<mark>").replace(STOP, "</mark>")
    url = rendering.page_url(path, language)
    return Result(title=title, url=url, excerpt=mark_safe(excerpt), excerpt_lang=excerpt_lang)


def _summary(summary: str) -> str:
    return rendering.CONTROL_CHARACTERS.sub("", summary)


def _weighted(title, summary, text, language: str) -> SearchVector:
    """Title, summary and text in ``language``'s configuration, in that order of weight."""
    config = languages.search_configuration(language)
    parts = zip((title, summary, text), "ABC", strict=True)
    vectors = [SearchVector(part, weight=weight, config=config) for part, weight in parts]
    return vectors[0] + vectors[1] + vectors[2]


def document(snapshot: LiveSnapshot) -> SearchVector | None:
    """The expression ``snapshot``'s stored search document is written with, from the title,
    summary and text it is being saved with (on PostgreSQL; None elsewhere)."""
    if connection.vendor != "postgresql":
        return None
    return _weighted(Value(snapshot.title), Value(snapshot.summary), Value(snapshot.text), snapshot.language)


def write_documents(snapshot_ids) -> None:
    """Write the stored search documents of the snapshots ``snapshot_ids`` from their saved
    title, summary and text, in one statement a language (on PostgreSQL; nothing elsewhere)."""
    if connection.vendor != "postgresql":
        return
    snapshots = LiveSnapshot.objects.filter(pk__in=list(snapshot_ids))
    for language in snapshots.values_list("language", flat=True).distinct():
        snapshots.filter(language=language).update(search_document=_weighted("title", "summary", "text", language))


def _postgresql(live, query: str, language: str) -> list[Result]:
    config = languages.search_configuration(language)
    terms = SearchQuery(query, config=config, search_type="websearch")
    # The best matches first, from the index and the stored documents alone; then the excerpts
    # of those few (an excerpt reads the whole text: never for every page that matched).
    best = list(
        live.filter(search_document=terms)
        .annotate(rank=SearchRank(F("search_document"), terms))
        .order_by("-rank", "title")
        .values_list("pk", flat=True)[:MAX_RESULTS]
    )
    excerpt = SearchHeadline(
        "text",
        terms,
        config=config,
        start_sel=START,
        stop_sel=STOP,
        max_words=30,
        min_words=12,
        max_fragments=2,
        fragment_delimiter=" … ",
    )
    found = {
        pk: row
        for pk, *row in LiveSnapshot.objects.filter(pk__in=best)
        .annotate(excerpt=excerpt)
        .values_list("pk", "path", "title", "excerpt", "summary", "content__summary_lang")
    }
    # A page found by its title alone has no match in its text to show: its summary instead.
    return [
        _result(path, title, language, marked)
        if START in marked
        else _result(path, title, language, _summary(summary), summary_lang if summary_lang != language else "")
        for path, title, marked, summary, summary_lang in (found[pk] for pk in best if pk in found)
    ]


def _anywhere(live, query: str, language: str) -> list[Result]:
    words = [word.casefold() for word in re.findall(r"\w+", query)]
    scored = []
    rows = live.values_list("path", "title", "summary", "text", "content__summary_lang")
    for path, title, summary, text, summary_lang in rows:
        fields = [field.casefold() for field in (title, summary, text)]
        if not all(any(word in field for field in fields) for word in words):
            continue
        score = sum(
            weight * field.count(word) for word in words for weight, field in zip((9, 3, 1), fields, strict=True)
        )
        shown_lang = summary_lang if not text and summary_lang != language else ""
        scored.append((-score, title, path, _excerpt(text or _summary(summary), words), shown_lang))
    scored.sort()
    return [_result(path, title, language, *shown) for _score, title, path, *shown in scored[:MAX_RESULTS]]


def _excerpt(text: str, words: list[str], width: int = 100) -> str:
    """About ``width`` characters either side of the first word found, the words marked."""
    folded = text.casefold()
    found = [at for word in words if (at := folded.find(word)) >= 0]
    at = min(found, default=0)
    start, end = max(0, at - width), min(len(text), at + width)
    piece = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    pattern = re.compile("|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)), re.IGNORECASE)
    return pattern.sub(lambda match: f"{START}{match.group()}{STOP}", piece)
