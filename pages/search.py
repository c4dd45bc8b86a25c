"""The public search: live pages in the reader's language only, best matches first,
with the words found highlighted in an excerpt.

On PostgreSQL it is full-text search with the language's own configuration (its
stemming and stop words; `simple` for a language PostgreSQL has none for, such as
Welsh), over each live version's stored search document (written when it is built,
GIN-indexed): a query costs the index lookup, the ranking of at most
``SEARCH_CANDIDATES`` matches and the excerpts of one page of results, not a pass over
every page, and it runs under a statement timeout of its own. Elsewhere (SQLite in
development) every word must appear, and pages rank by where: title first, then
summary, then text.
"""

import contextlib
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import OperationalError, connection, transaction
from django.db.models import Case, F, JSONField, Value, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from pages import languages, rendering
from pages.models import LiveSnapshot

PER_PAGE = 10
LONGEST_QUERY = 200
# Around each match in an excerpt, marked for highlighting after escaping.
START, STOP = "\x02", "\x03"


@dataclass
class Result:
    title: str
    url: str
    excerpt: SafeString  # a piece of it in another language than the rest says which
    excerpt_lang: str = ""  # the language of the whole excerpt, when it is not the reader's
    title_lang: str = ""  # the title's language, when it is not the reader's


@dataclass
class Found:
    """One page of results, and how many pages matched (at most ``SEARCH_CANDIDATES``:
    ``more`` says there were more, ranked no further)."""

    results: list[Result] = field(default_factory=list)
    total: int = 0
    more: bool = False
    page: int = 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))


class SearchTooSlow(Exception):
    """The search ran past its statement timeout (``SEARCH_TIMEOUT_MS``) and was stopped."""


def find(query: str, language: str, page: int = 1) -> Found:
    """Page ``page`` (from 1) of the live pages in ``language`` that match ``query``, best first.
    Raises SearchTooSlow when the database stopped it."""
    query = " ".join(query.split())[:LONGEST_QUERY]
    if not re.search(r"\w", query):
        return Found()
    live = LiveSnapshot.objects.live().filter(language=language)
    if connection.vendor != "postgresql":
        return _anywhere(live, query, language, page)
    with time_limited(query):
        return _postgresql(live, query, language, page)


@contextlib.contextmanager
def time_limited(query: str):
    """A transaction whose statements the database stops after ``SEARCH_TIMEOUT_MS`` (on
    PostgreSQL): then SearchTooSlow. Every search, the public's and the admin's, runs in one."""
    if connection.vendor != "postgresql":
        yield
        return
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [int(settings.SEARCH_TIMEOUT_MS)])
            yield
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == "57014":  # query_canceled
            raise SearchTooSlow(query) from error
        raise


def _page_of(ranked: list, page: int) -> list:
    return ranked[(page - 1) * PER_PAGE : page * PER_PAGE]


FRAGMENTS = " … "  # between the pieces of text an excerpt is made of


def _result(
    path: str, title: str, language: str, marked: str, *, excerpt_lang: str = "", title_lang: str = "", lines=()
) -> Result:
    """A result for readers of ``language``: ``marked`` (its finds between START and STOP) as
    its excerpt; ``lines`` are the page's text with the language of each, for a page partly
    in another language (see :func:`_mixed_content`), to say which each piece is in."""
    # The text's blocks (a heading, a paragraph, a list item) each a line: kept apart when shown.
    pieces = [
        [(fragment, _language_of(fragment, lines) or language) for fragment in line.strip().split(FRAGMENTS)]
        for line in marked.split("\n")
        if line.strip()
    ]
    shown_in = {lang for line in pieces for _fragment, lang in line}
    if not excerpt_lang and len(shown_in) == 1:
        excerpt_lang = shown_in.pop()
    excerpt_lang = excerpt_lang if excerpt_lang != language else ""

    def html(fragment: str, lang: str) -> str:
        text = escape(fragment).replace(START, "<mark>").replace(STOP, "</mark>")
        if lang == (excerpt_lang or language):
            return text
        return f'<span lang="{lang}" dir="{languages.direction(lang)}">{text}</span>'

    excerpt = " · ".join(FRAGMENTS.join(html(*piece) for piece in line) for line in pieces)
    url = rendering.page_url(path, language)
    title_lang = title_lang if title_lang != language else ""
    return Result(title=title, url=url, excerpt=mark_safe(excerpt), excerpt_lang=excerpt_lang, title_lang=title_lang)


def _language_of(fragment: str, lines) -> str | None:
    """The language of the line of ``lines`` (text, language) that ``fragment`` of an excerpt was cut from."""
    words = " ".join(fragment.replace(START, "").replace(STOP, "").strip("…").split())
    return next((lang for line, lang in lines if words and words in line), None)


def _mixed_content() -> Case:
    """A page's content if it is partly in another language than its own (whose excerpts
    may be so too); nothing for the others, most of them, so as not to read it."""
    return Case(When(content__has_untranslated_parts=True, then=F("content")), default=None, output_field=JSONField())


def _lines(content: dict | None):
    return rendering.text_lines(content) if content else ()


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


def _postgresql(live, query: str, language: str, page: int) -> Found:
    config = languages.search_configuration(language)
    terms = SearchQuery(query, config=config, search_type="websearch")
    limit = settings.SEARCH_CANDIDATES
    # The matches, from the index (a bounded number: a word on every page costs no more
    # than one on a thousand); ranked from their stored documents; then the excerpts of
    # the page of results shown (an excerpt reads the whole text).
    candidates = live.filter(search_document=terms).values("pk")[: limit + 1]
    ranked = list(
        LiveSnapshot.objects.filter(pk__in=candidates)
        .annotate(rank=SearchRank(F("search_document"), terms))
        .order_by("-rank", "title", "pk")
        .values_list("pk", flat=True)
    )
    more = len(ranked) > limit
    ranked = ranked[:limit]
    shown = _page_of(ranked, page)
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
        for pk, *row in LiveSnapshot.objects.filter(pk__in=shown)
        .annotate(excerpt=excerpt, mixed=_mixed_content())
        .values_list(
            "pk", "path", "title", "excerpt", "summary", "content__summary_lang", "content__title_lang", "mixed"
        )
    }
    # A page found by its title alone has no match in its text to show: its summary instead.
    results = [
        _result(path, title, language, marked, title_lang=title_lang, lines=_lines(mixed))
        if START in marked
        else _result(path, title, language, _summary(summary), excerpt_lang=summary_lang, title_lang=title_lang)
        for path, title, marked, summary, summary_lang, title_lang, mixed in (found[pk] for pk in shown if pk in found)
    ]
    return Found(results=results, total=len(ranked), more=more, page=page)


def _anywhere(live, query: str, language: str, page: int) -> Found:
    words = [word.casefold() for word in re.findall(r"\w+", query)]
    scored = []
    rows = live.annotate(mixed=_mixed_content()).values_list(
        "path", "title", "summary", "text", "content__summary_lang", "content__title_lang", "mixed"
    )
    for path, title, summary, text, summary_lang, title_lang, mixed in rows:
        fields = [field.casefold() for field in (title, summary, text)]
        if not all(any(word in field for field in fields) for word in words):
            continue
        score = sum(
            weight * field.count(word) for word in words for weight, field in zip((9, 3, 1), fields, strict=True)
        )
        shown = {"excerpt_lang": summary_lang} if not text else {"lines": _lines(mixed)}
        scored.append(
            (-score, title, path, _excerpt(text or _summary(summary), words), shown | {"title_lang": title_lang})
        )
    scored.sort(key=lambda result: result[:3])
    limit = settings.SEARCH_CANDIDATES
    more, scored = len(scored) > limit, scored[:limit]
    shown = [
        _result(path, title, language, marked, **rest) for _score, title, path, marked, rest in _page_of(scored, page)
    ]
    return Found(results=shown, total=len(scored), more=more, page=page)


def _excerpt(text: str, words: list[str], width: int = 100) -> str:
    """About ``width`` characters either side of the first word found, the words marked."""
    folded = text.casefold()
    found = [at for word in words if (at := folded.find(word)) >= 0]
    at = min(found, default=0)
    start, end = max(0, at - width), min(len(text), at + width)
    piece = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    pattern = re.compile("|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)), re.IGNORECASE)
    return pattern.sub(lambda match: f"{START}{match.group()}{STOP}", piece)
