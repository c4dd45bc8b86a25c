"""What the section editor's link and glossary-term dialogs ask the server (static/js/prose-tools.js).

Three answers, as JSON, for active staff who may view pages (``pages.view_page``):

- ``pages``: the pages whose title, in any language, or address holds the words typed (the
  trigram indexes of pages/trigrams.py answer it on PostgreSQL), at most ``PAGE_RESULTS``,
  exact titles first. Each page says no more than its id, titles, public address and whether it
  is live: the dialog stores the link as ``page:<id>``, as pasting the page's address does.
- ``terms``: the glossary terms (``<a href="term:name" title="definition">``) that live versions
  in one language use, each with the definitions they give it there, most used first. They are
  read from the newest ``TERM_SOURCES`` live versions in that language (their stored
  ``content["terms"]``), so that the answer costs the same however large the site grows.
- ``strings``: the dialogs' words in the admin's language, from the server's catalogues (the
  admin has no JavaScript catalogue).

Each costs the same few queries (besides the session's and the user's) whatever the number of pages.
"""

import functools
import re
from collections import Counter
from urllib.parse import urlsplit

from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce, Lower, NullIf
from django.http import JsonResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from pages import languages, richtext, trigrams
from pages.errors import UnknownLanguage
from pages.models import LiveSnapshot, Page

PAGE_RESULTS = 20
TERM_RESULTS = 20
DEFINITIONS_PER_TERM = 10
# The newest live versions in a language whose terms are offered (see the module's docstring).
TERM_SOURCES = 500
# Longer than any title (200) or address (500) typed or pasted with its site's name.
MOST_CHARACTERS = 600

# "page:12", as the link dialog shows a chosen page.
PAGE_REFERENCE = re.compile(r"^\s*page:(?P<id>[1-9][0-9]{0,17})\s*$")
# A term's anchor on its page is "term-<name>", or "term-<name>-2" for its second definition there.
NUMBERED_ANCHOR = re.compile(r"^(?P<base>.+)-(?:[2-9]|[1-9][0-9]+)$")


class BadQuery(ValueError):
    """The request cannot be answered as asked; the message says why, for the editor."""


def for_page_viewers(view):
    """Answer active staff who may view pages; anyone else signed in gets a 403 (the admin's
    own ``admin_view``, around this, sends those who are not staff to sign in)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (user.is_active and user.is_staff and user.has_perm("pages.view_page")):
            return JsonResponse({"error": _("You may not look up pages.")}, status=403)
        try:
            return view(request, *args, **kwargs)
        except BadQuery as refusal:
            return JsonResponse({"error": str(refusal)}, status=400)

    return require_GET(wrapped)


def _query(request) -> str:
    query = request.GET.get("q", "")
    if len(query) > MOST_CHARACTERS:
        raise BadQuery(
            _("Search with at most %(limit)s characters; this search has %(count)s.")
            % {"limit": MOST_CHARACTERS, "count": len(query)}
        )
    if "\x00" in query:  # RejectNulMiddleware refuses these first; here for any other way in
        raise BadQuery(_("The search holds a NUL character, which no title or address has."))
    return query.strip()


def _language(request) -> str:
    """The language of the field being edited (``lang``), the source language if none is given."""
    code = request.GET.get("lang") or languages.source()
    try:
        languages.check(code[:20])
    except UnknownLanguage as unknown:
        raise BadQuery(str(unknown)) from unknown
    return code


def admin_language() -> str:
    code = translation.get_language() or ""
    return code if languages.is_known(code) else languages.source()


# Pages


def site_path(query: str) -> str | None:
    """The page path in an address typed or pasted (``https://host/cy/a/b/``, ``/cy/a/b/``,
    ``a/b``), or None if ``query`` does not look like an address."""
    if "://" in query:
        try:
            query = urlsplit(query).path
        except ValueError:  # such as "http://[x": no address at all
            return None
    elif not query.startswith("/"):
        return None
    parts = [part for part in query.split("/") if part]
    if parts and languages.is_known(parts[0]):
        parts = parts[1:]
    return "/".join(parts)


def find_pages(query: str, *, language: str, shown_in: str) -> tuple[list[dict], bool]:
    """Pages for the link dialog, at most PAGE_RESULTS, and whether there are more: by
    ``page:<id>``, by address, or with each word of ``query`` in a title (any language) or the
    address. Exact titles (and addresses) first, then titles that begin so, then by the title
    in ``shown_in``. Addresses are the public ones in ``language``."""
    codes = languages.codes()
    source = languages.source()
    pages = Page.objects.all()
    rank = Value(2)
    if reference := PAGE_REFERENCE.match(query):
        pages = pages.filter(pk=int(reference["id"]))
    elif (path := site_path(query)) is not None:
        pages = pages.filter(path__icontains=path) if path else pages.none()
        rank = Case(When(path__iexact=path, then=Value(0)), default=Value(2), output_field=IntegerField())
    elif query:
        pages = trigrams.matching(pages, query, in_text=False)
        exact = Q.create([(f"title_{code}__iexact", query) for code in codes], connector=Q.OR)
        starts = Q.create([(f"title_{code}__istartswith", query) for code in codes], connector=Q.OR)
        rank = Case(
            When(exact, then=Value(0)), When(starts, then=Value(1)), default=Value(2), output_field=IntegerField()
        )
    else:
        return [], False
    shown_title = Coalesce(NullIf(f"title_{shown_in}", Value("")), f"title_{source}")
    rows = list(
        pages.annotate(rank=rank, shown_title=Lower(shown_title))
        .order_by("rank", "shown_title", "pk")
        .values("pk", "path", *(f"title_{code}" for code in codes))[: PAGE_RESULTS + 1]
    )
    # Asked of the pages shown only: as a subquery of the search, PostgreSQL would read every
    # live version when the words are on most pages (a hashed subplan), however few are shown.
    live = set(
        LiveSnapshot.objects.live()
        .filter(page_id__in=[row["pk"] for row in rows[:PAGE_RESULTS]])
        .values_list("page_id", flat=True)
        .distinct()
    )
    found = []
    for row in rows[:PAGE_RESULTS]:
        titles = {code: row[f"title_{code}"] for code in codes if row[f"title_{code}"]}
        title_language = shown_in if shown_in in titles else source
        found.append(
            {
                "id": row["pk"],
                "title": titles.get(title_language, ""),
                "title_language": title_language,
                "titles": titles,
                "address": reverse("pages:page", kwargs={"language": language, "path": row["path"]}),
                "is_live": row["pk"] in live,
            }
        )
    return found, len(rows) > PAGE_RESULTS


@for_page_viewers
def pages(request):
    """``?q=`` words, an address or ``page:<id>``; ``&lang=`` the language of the field edited."""
    shown_in = admin_language()
    found, more = find_pages(_query(request), language=_language(request), shown_in=shown_in)
    return JsonResponse({"pages": found, "more": more, "shown_in": shown_in})


# Glossary terms


def term_name(term: dict, anchors: set[str]) -> str:
    """The short name of a term in a live version's ``content["terms"]``, from its anchor there
    (``term-biopsy``; ``term-biopsy-2`` when the page gives biopsy a second definition)."""
    if term.get("name"):
        return term["name"]
    name = term["anchor"].removeprefix("term-")
    if (numbered := NUMBERED_ANCHOR.match(name)) and f"term-{numbered['base']}" in anchors:
        name = numbered["base"]
    return name


def find_terms(query: str, *, language: str) -> list[dict]:
    """Terms used in ``language`` on the live site whose name, words or a definition hold
    ``query`` (all of them when it is empty): the exact name first, then names that begin so,
    then the most used. Each with its definitions in ``language``, most used first."""
    sources = (
        LiveSnapshot.objects.live()
        .filter(language=language)
        .order_by("-published_at")
        .values_list("content__terms", flat=True)[:TERM_SOURCES]
    )
    definitions: dict[str, Counter] = {}
    words: dict[str, Counter] = {}
    for terms in sources:
        terms = [term for term in terms or [] if isinstance(term, dict) and term.get("anchor")]
        anchors = {term["anchor"] for term in terms}
        for term in terms:
            name = term_name(term, anchors)
            if term.get("lang") != language or not richtext.TERM_LINK.match(f"term:{name}"):
                continue  # a part shown in the source language, for want of a translation
            definitions.setdefault(name, Counter())[term.get("definition", "")] += 1
            words.setdefault(name, Counter())[term.get("term", "")] += 1
    wanted = query.casefold()

    def matches(name: str) -> bool:
        texts = [name, *words[name], *definitions[name]]
        return not wanted or any(wanted in text.casefold() for text in texts)

    def order(name: str) -> tuple:
        folded = name.casefold()
        return (folded != wanted, not folded.startswith(wanted), -definitions[name].total(), name)

    return [
        {
            "name": name,
            "definitions": [
                {"text": text, "uses": uses}
                for text, uses in definitions[name].most_common(DEFINITIONS_PER_TERM)
                if text
            ],
            "words": [text for text, _uses in words[name].most_common(3) if text],
            "uses": definitions[name].total(),
        }
        for name in sorted(filter(matches, definitions), key=order)[:TERM_RESULTS]
    ]


@for_page_viewers
def terms(request):
    """``?lang=`` the language of the field edited; ``&q=`` part of a name, words or a definition."""
    language = _language(request)
    return JsonResponse({"language": language, "terms": find_terms(_query(request), language=language)})


# The dialogs' words


def dialog_strings() -> dict[str, str]:
    """Every word the dialogs show, in the active language. ``%(name)s`` is filled in by the script."""
    return {
        # The link dialog
        "linkTitle": _("Link"),
        "findPage": _("Find a page of this site"),
        "findPageHelp": _("Type part of its title, in any language, or its address."),
        "pagesFound": _("Pages found"),
        "pagesCount": _("Pages found: %(count)s."),
        "morePages": _("Only the first %(count)s are shown: type more of the title to find others."),
        "noPages": _("No page has that title or address."),
        "searching": _("Searching…"),
        "searchFailed": _("The search did not work. Try again in a moment."),
        "live": _("Live"),
        "notLive": _("Not live yet"),
        "notLiveChosen": _("It is not live yet: readers see the words without a link until it is published."),
        "titleIn": _("title in %(language)s"),
        "address": _("Link address"),
        "addressHelp": _(
            "A page chosen above is stored as “page:” and its number, so that the link follows the page "
            "when it moves. You can also paste a page’s address from this site, or type another site’s "
            "full address (https://…), an e-mail address (mailto:…) or a telephone number (tel:…)."
        ),
        "linksTo": _("Links to: %(title)s (%(address)s)."),
        "noSuchPage": _("No page has the number %(id)s."),
        "needAddress": _("Choose a page above or type the link’s address."),
        "saveLink": _("Save link"),
        "removeLink": _("Remove link"),
        "cancel": _("Cancel"),
        # The glossary term dialog
        "termTitle": _("Glossary term"),
        "termWords": _("Words explained: %(words)s"),
        "findTerm": _("Find a term already used on the site"),
        "findTermHelp": _("Type part of its short name, of the words it explains or of its definition."),
        "termsFound": _("Terms found"),
        "termsCount": _("Terms found: %(count)s."),
        "noTerms": _("No live page uses such a term in this language. Give the new term a short name below."),
        "termUses": _("Live pages that use it: %(count)s."),
        "definitionsOf": _("Definitions of “%(name)s” already used in %(language)s"),
        "definitionsHelp": _("Choose one to use it, then change it below if you need to."),
        "definitionUses": _("live pages: %(count)s"),
        "termName": _("Short name"),
        "termNameHelp": _(
            "Lowercase letters, digits and hyphens, such as “blood-sugar”. Use the same name for the same "
            "term on every page and in every language."
        ),
        "termNameInvalid": _("Give the term a short name of lowercase letters, digits and single hyphens."),
        "definition": _("Definition, in %(language)s"),
        "definitionHelp": _(
            "What the words mean, in plain words. Readers see it in the list of words used on the page; "
            "it is part of the wording that is signed off."
        ),
        "definitionMissing": _("Write what the term means."),
        "saveTerm": _("Save term"),
        "removeTerm": _("Remove term"),
    }


@for_page_viewers
def strings(request):
    """The dialogs' words in the admin's language, and each language's name and direction."""
    names = {code: {"name": language_name(code), "dir": languages.direction(code)} for code in languages.codes()}
    return JsonResponse({"strings": dialog_strings(), "languages": names})


def language_name(code: str) -> str:
    """The language's name in the active language ("Welsh", "Cymraeg", "الويلزية")."""
    try:
        return str(translation.get_language_info(code)["name_translated"])
    except KeyError:
        return languages.local_name(code)
