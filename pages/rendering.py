"""The public page's HTML, rendered once when a snapshot is written rather than on
every request.

A stored rendering carries the key of what it was rendered with (the page
templates and their filters, this module, the stylesheet's address, the site's address and
languages, the translations, Django's version). A deploy that changes any of them changes the key, and until
``manage.py render_live_pages`` has run, pages are rendered on each request
instead: never served stale, only slower.
"""

import functools
import hashlib
import html
import importlib
import inspect
import re
import sys
from pathlib import Path

import django
from django.conf import settings
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.html import strip_tags

from pages import languages
from pages.templatetags import public_pages

TEMPLATES = ("base.html", "pages/page.html", "pages/language_switcher.html")


def absolute(path: str) -> str:
    """The public address of ``path`` on this site, as SITE_URL gives it."""
    return f"{settings.SITE_URL}{path}"


def page_url(path: str, language: str) -> str:
    return reverse("pages:page", kwargs={"language": language, "path": path})


def alternates(path: str, live_languages: list[str]) -> list[dict]:
    """``hreflang`` links to the page at ``path`` in each language it is live in, and x-default."""
    links = [{"hreflang": code, "href": absolute(page_url(path, code))} for code in live_languages]
    if languages.source() in live_languages:
        links.append({"hreflang": "x-default", "href": absolute(page_url(path, languages.source()))})
    return links


def switcher(urls: dict[str, str], current: str) -> list[dict]:
    """The language switcher's links: each language by its own name, to ``urls[code]``."""
    return [
        {"code": code, "name": languages.local_name(code), "url": url, "is_current": code == current}
        for code, url in urls.items()
    ]


def page_context(snapshot, language: str) -> dict:
    """What the page template needs to show ``snapshot`` to a reader of ``language``."""
    path = snapshot.path
    content = snapshot.content
    # Shown in another language: the pages around it as they are live in the reader's.
    navigation = content.get("navigation_for", {}).get(language, content)
    sections, terms = glossary_links(content)
    return {
        "snapshot": snapshot,
        "content": content,
        "sections": sections,
        "terms": terms,
        "breadcrumbs": navigation.get("breadcrumbs", []),
        "children": navigation.get("children", []),
        "related": navigation.get("related", []),
        "is_fallback": snapshot.language != language,
        "content_language": snapshot.language,
        "source_language": languages.source(),
        "switcher": switcher({code: page_url(path, code) for code in snapshot.languages}, language),
        "canonical": absolute(page_url(path, snapshot.language)),
        "alternates": alternates(path, snapshot.languages),
    }


# How pages.richtext renders a glossary term's link to its entry in the page's list of terms.
TERM_LINK = re.compile(r'<a class="term" href="#([\w-]+)">')


def glossary_links(content: dict) -> tuple[list[dict], list[dict]]:
    """The sections, each glossary term's link in them described by the term's definition
    (a screen reader says what it means where it is used), and the terms, each with the ids
    of its definition and of its first use in the text, for a way back from the list.

    The ids are the term's anchor with ``--definition`` and ``--in-text``: a term's anchor
    is ``term-`` and its name (words joined by single hyphens), and a section's never starts
    with ``term-``, so no other id on the page can be one of them."""
    first_use: dict[str, str] = {}

    def described(match: re.Match) -> str:
        anchor = match.group(1)
        attributes = f' aria-describedby="{anchor}--definition"'
        if anchor not in first_use:
            first_use[anchor] = f"{anchor}--in-text"
            attributes += f' id="{first_use[anchor]}"'
        return f"{match.group(0)[:-1]}{attributes}>"

    sections = [
        section | {"html": TERM_LINK.sub(described, section["html"])} for section in content.get("sections", [])
    ]
    terms = [
        term | {"definition_id": f"{term['anchor']}--definition", "first_use": first_use.get(term["anchor"], "")}
        for term in content.get("terms", [])
    ]
    return sections, terms


def render(snapshot, language: str) -> str:
    with translation.override(language):
        return render_to_string("pages/page.html", page_context(snapshot, language))


# What store() sets, for the callers that save it.
STORED_FIELDS = ["html", "html_key", "text", "fallback_html"]


def store(snapshot) -> None:
    """Set ``snapshot``'s stored renderings and its searchable text, without saving: the
    page for readers of its own language and, for the source language's version, the page
    for readers of each language it stands in for (with the notice that says so): those
    the page is not live in. (Publishing or withdrawing a language changes
    ``snapshot.languages``, and the source language's version is stored again.)"""
    if snapshot.withdrawn_at:
        snapshot.html, snapshot.html_key, snapshot.text, snapshot.fallback_html = "", "", "", {}
        return
    # One waiting to be composed again keeps no key: its content predates a change to the
    # live site, so readers get it composed afresh until it is (pages.snapshots).
    snapshot.html, snapshot.html_key = render(snapshot, snapshot.language), "" if snapshot.needs_rebuild else key()
    snapshot.text = plain_text(snapshot.content)
    others = [code for code in languages.codes() if code != snapshot.language and code not in snapshot.languages]
    is_source = snapshot.language == languages.source()
    snapshot.fallback_html = {code: render(snapshot, code) for code in others} if is_source else {}


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


BLOCK_ENDS = re.compile(r"</(?:p|li|h[1-6]|blockquote|dt|dd|tr)>", re.IGNORECASE)


def text_lines(content: dict) -> list[tuple[str, str | None]]:
    """The lines of :func:`plain_text`, each with the language it is in."""
    blocks = []
    for section in content.get("sections", []):
        # Each paragraph, list item and heading of the body a block of its own.
        # A line break typed inside a paragraph is a space in it, not a block.
        body = BLOCK_ENDS.sub("\n", section["html"].replace("\n", " ")).replace("<", " <")
        blocks.append((section["heading"], section.get("heading_lang")))
        blocks += [(line, section.get("lang")) for line in html.unescape(strip_tags(body)).split("\n")]
    for term in content.get("terms", []):
        blocks += [(term["term"], term.get("lang")), (term["definition"], term.get("lang"))]
    return [(CONTROL_CHARACTERS.sub("", " ".join(block.split())), lang) for block, lang in blocks if block.strip()]


def plain_text(content: dict) -> str:
    """The words of a snapshot's sections and glossary, one block a line (without control
    characters, which the search uses to mark what it found)."""
    return "\n".join(line for line, _lang in text_lines(content))


@functools.cache
def key() -> str:
    """What a stored rendering depends on besides the snapshot itself, as a digest."""
    parts = [get_template(name).template.source for name in TEMPLATES]
    parts += [inspect.getsource(code) for code in (public_pages, languages, sys.modules[__name__])]
    parts += [django.get_version(), static("css/site.css"), settings.SITE_URL, repr(settings.LANGUAGES)]
    # How each language writes dates (FORMAT_MODULE_PATH): a change to one is a change to every page.
    for module in settings.FORMAT_MODULE_PATH:
        directory = Path(importlib.import_module(module).__file__).parent
        parts += [path.read_bytes().hex() for path in sorted(directory.glob("*/formats.py"))]
    for directory in settings.LOCALE_PATHS:
        parts += [path.read_bytes().hex() for path in sorted(directory.glob("*/LC_MESSAGES/*.mo"))]
    return hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()[:32]
