"""Rich text for section bodies: what editors may store, and how it is shown.

Stored form (what the editor writes and reviewers sign off) is a small HTML
vocabulary: paragraphs, sub-headings, lists, bold/italic, super/subscript,
line breaks and links. Two link schemes carry meaning of their own:

- ``page:<id>`` links to another page of the site by reference, so a move or
  rename never breaks it. Editors paste the page's public address
  (``/en/some/page/``); :func:`resolve_site_links` turns it into the reference.
- ``term:<slug>`` marks a glossary term; the link's title is its definition.
  Both are part of the signed-off wording.

Sanitising happens twice with nh3: on save (:func:`sanitise`) and when a page is
rendered for the public (:func:`render`). Before saving, :func:`find_losses`
says what sanitising would remove; anything beyond formatting noise (spans,
classes, styles) is refused, because in clinical text a silently dropped tag
can change meaning (``10<sup>9</sup>`` becoming ``109``).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

import nh3
from django.utils.text import slugify

STORED_TAGS = frozenset({"p", "h3", "h4", "ul", "ol", "li", "strong", "em", "sub", "sup", "br", "a"})
STORED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "page", "term"})

# Removing these changes nothing a reader sees in the meaning of the text.
NOISE_TAGS = frozenset({"span", "font", "div", "o:p"})
NOISE_ATTRIBUTES = frozenset({"class", "style", "id", "dir", "lang", "rel", "target", "spellcheck"})
VOID_TAGS = frozenset({"br", "img", "hr", "input", "meta", "link", "source", "track", "wbr", "area", "embed"})

PAGE_LINK = re.compile(r"^page:(?P<id>[1-9][0-9]*)$")
TERM_LINK = re.compile(r"^term:(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)?$")
SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")


# The editor wraps every list item's text in a paragraph; storing one form only
# keeps an unchanged list from showing up as changed in the page's history.
LONE_PARAGRAPH_ITEM = re.compile(r"<li><p>((?:(?!</?p>|</?li>).)*)</p></li>", re.S)


def sanitise(html: str) -> str:
    """Return ``html`` reduced to the stored vocabulary, in one canonical form. Never raises."""
    clean = nh3.clean(
        html,
        tags=set(STORED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in STORED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        link_rel=None,
        strip_comments=True,
    ).strip()
    return LONE_PARAGRAPH_ITEM.sub(r"<li>\1</li>", clean)


class _Inspector(HTMLParser):
    """Walks an editor's input and lists what sanitising would take away."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.losses: list[str] = []
        self.text: list[str] = []
        self._hidden_depth = 0

    def _lose(self, message: str) -> None:
        if message not in self.losses:
            self.losses.append(message)

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "template", "textarea", "noscript", "iframe", "object"}:
            self._lose(f"the <{tag}> element and everything in it")
            if tag not in VOID_TAGS:
                self._hidden_depth += 1
            return
        if tag not in STORED_TAGS and tag not in NOISE_TAGS:
            kept = "" if tag in VOID_TAGS else " (its text would be kept, its meaning lost)"
            self._lose(f"the <{tag}> element{kept}")
        allowed = STORED_ATTRIBUTES.get(tag, set()) if tag in STORED_TAGS else set()
        for name, value in attrs:
            if name in allowed:
                if name == "href":
                    self._check_href(value or "")
                continue
            if name.startswith("on"):
                self._lose(f"the {name} attribute on <{tag}> (scripts are not allowed)")
            elif name not in NOISE_ATTRIBUTES and not name.startswith("data-") and tag in STORED_TAGS:
                self._lose(f'the {name}="{value}" attribute on <{tag}>')

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in {"script", "style", "template", "textarea", "noscript", "iframe", "object"}:
            self._hidden_depth -= 1

    def handle_endtag(self, tag):
        if tag in {"script", "style", "template", "textarea", "noscript", "iframe", "object"}:
            self._hidden_depth = max(0, self._hidden_depth - 1)

    def handle_data(self, data):
        if not self._hidden_depth:
            self.text.append(data)

    def _check_href(self, href: str) -> None:
        match = SCHEME.match(href)
        if match is None:
            self._lose(f'the link to "{href}" (not a page of this site or a full web address)')
        elif match.group(1).lower() not in URL_SCHEMES:
            self._lose(f'the link to "{href}" ({match.group(1)}: links are not allowed)')
        elif href.startswith("page:") and not PAGE_LINK.match(href):
            self._lose(f'the link to "{href}" (not a valid page reference)')
        elif href.startswith("term:") and not TERM_LINK.match(href):
            self._lose(f'the glossary term "{href}" (use lowercase letters, digits and hyphens)')


def _visible_text(html: str) -> str:
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return " ".join("".join(inspector.text).split())


def find_losses(html: str) -> list[str]:
    """Describe everything beyond formatting noise that :func:`sanitise` would remove.

    An empty list means the sanitised text says exactly what the input said.
    """
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    losses = inspector.losses
    if not losses and _visible_text(sanitise(html)) != " ".join("".join(inspector.text).split()):
        # A safety net for anything the rules above do not name.
        losses.append("some of the text")
    return losses


class _TermChecker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.undefined: list[str] = []
        self._open_term: bool = False
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and (attrs.get("href") or "").startswith("term:"):
            self._open_term = not (attrs.get("title") or "").strip()
            self._text = []

    def handle_endtag(self, tag):
        if tag == "a" and self._open_term:
            self.undefined.append("".join(self._text).strip())
            self._open_term = False

    def handle_data(self, data):
        self._text.append(data)


def terms_without_definition(html: str) -> list[str]:
    """Glossary terms whose link has no title (definition)."""
    checker = _TermChecker()
    checker.feed(html)
    checker.close()
    return checker.undefined


SITE_PATH = re.compile(r"""href=(?P<quote>["'])(?P<path>/[^"']*)(?P=quote)""")


def resolve_site_links(html: str, page_id_for_path: Callable[[str], int | None]) -> tuple[str, list[str]]:
    """Replace links to this site's public addresses with ``page:<id>`` references.

    ``page_id_for_path`` maps a public path such as ``/cy/a/b/`` to a page id or
    None. Returns the new HTML and the paths that match no page.
    """
    unknown: list[str] = []

    def replace(match: re.Match) -> str:
        path = match.group("path")
        page_id = page_id_for_path(path.split("#")[0].split("?")[0])
        if page_id is None:
            unknown.append(path)
            return match.group(0)
        return f'href="page:{page_id}"'

    return SITE_PATH.sub(replace, html), unknown


@dataclass
class Rendered:
    """A section body ready for the public: HTML plus what it refers to."""

    html: str
    terms: list[dict] = field(default_factory=list)
    page_ids: set[int] = field(default_factory=set)


class _Renderer(HTMLParser):
    def __init__(self, url_for_page: Callable[[int], str | None]):
        super().__init__(convert_charrefs=True)
        self.url_for_page = url_for_page
        self.out: list[str] = []
        self.result = Rendered(html="")
        self._links: list[bool] = []  # for each open <a>: was it kept?
        self._term: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag != "a":
            self.out.append(f"<{tag}>")
            return
        href = attrs.get("href") or ""
        if match := PAGE_LINK.match(href):
            page_id = int(match.group("id"))
            self.result.page_ids.add(page_id)
            url = self.url_for_page(page_id)
        elif TERM_LINK.match(href) and attrs.get("title"):
            self._term = {"slug": href[len("term:") :], "definition": attrs["title"].strip(), "text": []}
            self.out.append("\0TERM\0")  # replaced when the term's text is known
            self._links.append(True)
            return
        elif SCHEME.match(href):
            url = href
        else:
            url = None
        self._links.append(url is not None)
        if url is not None:
            self.out.append(f'<a href="{escape(url)}">')

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self.out.append("<br>")

    def handle_endtag(self, tag):
        if tag == "br":
            return
        if tag != "a":
            self.out.append(f"</{tag}>")
            return
        kept = self._links.pop() if self._links else False
        if self._term is not None:
            text = "".join(self._term["text"]).strip()
            slug = self._term["slug"] or slugify(text) or "term"
            anchor = f"term-{slug}"
            marker = self.out.index("\0TERM\0")
            self.out[marker] = f'<a class="term" href="#{anchor}">'
            if slug not in {term["slug"] for term in self.result.terms}:
                self.result.terms.append(
                    {"slug": slug, "anchor": anchor, "term": text, "definition": self._term["definition"]}
                )
            self._term = None
        if kept:
            self.out.append("</a>")

    def handle_data(self, data):
        if self._term is not None:
            self._term["text"].append(data)
        self.out.append(escape(data, quote=False))


def render(stored_html: str, *, url_for_page: Callable[[int], str | None]) -> Rendered:
    """Turn stored rich text into public HTML.

    Page references become the target's current address, or plain text when the
    target has no live version; glossary terms link to the page's list of terms.
    The input is sanitised again first, and so is the output.
    """
    renderer = _Renderer(url_for_page)
    renderer.feed(sanitise(stored_html))
    renderer.close()
    html = nh3.clean(
        "".join(renderer.out),
        tags=set(STORED_TAGS),
        attributes={"a": {"href"}},
        allowed_classes={"a": {"term"}},
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel=None,
    )
    renderer.result.html = html
    return renderer.result
