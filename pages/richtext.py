"""Rich text for section bodies: what editors may store, and how it is shown.

Stored form (what the editor writes and reviewers sign off) is a small HTML
vocabulary: paragraphs, sub-headings, lists, bold/italic, super/subscript,
line breaks and links. Two link schemes carry meaning of their own:

- ``page:<id>`` (optionally ``page:<id>#anchor``) links to another page of the
  site by reference, so a move or rename never breaks it. Editors paste the
  page's public address (``/en/some/page/``); :func:`resolve_site_links` turns
  it into the reference.
- ``term:<name>`` marks a glossary term; the link's title is its definition.
  Both are part of the signed-off wording.

Sanitising happens twice with nh3: on save (:func:`sanitise`) and when a page is
rendered for the public (:func:`render`). Before saving, :func:`inspect` says
what sanitising would remove; anything beyond formatting noise (spans, classes,
styles) is refused, because in clinical text a silently dropped tag can change
meaning (``10<sup>9</sup>`` becoming ``109``).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

import nh3

STORED_TAGS = frozenset({"p", "h3", "h4", "ul", "ol", "li", "strong", "em", "sub", "sup", "br", "a"})
STORED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "page", "term"})
PUBLIC_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})

# Removing these changes nothing in the meaning of the text.
NOISE_TAGS = frozenset({"span", "font", "o:p"})
NOISE_ATTRIBUTES = frozenset({"class", "style", "id", "dir", "lang", "rel", "target", "spellcheck"})
# Elements whose content is not text a reader sees; sanitising drops them whole.
HIDDEN_TAGS = frozenset({"script", "style", "template", "textarea", "noscript", "iframe", "object", "title"})
# Elements that separate blocks of text: "2 tablets" and "twice daily" in two
# blocks must not silently become "2 tabletstwice daily".
BLOCK_TAGS = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "br", "table", "tr", "td", "th"}
    | {"blockquote", "pre", "section", "article", "header", "footer", "dl", "dt", "dd", "hr", "figure"}
)
VOID_TAGS = frozenset({"br", "img", "hr", "input", "meta", "link", "source", "track", "wbr", "area", "embed"})

PAGE_LINK = re.compile(r"^page:(?P<id>[1-9][0-9]*)(?:#(?P<anchor>[\w-]+))?$")
TERM_LINK = re.compile(r"^term:(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*)$")
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


@dataclass
class Inspection:
    """What an editor's input holds that the site would not keep as it is."""

    losses: list[str] = field(default_factory=list)
    undefined_terms: list[str] = field(default_factory=list)
    text: str = ""


class _Inspector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.result = Inspection()
        self._text: list[str] = []
        self._hidden_depth = 0
        self._term: list[str] | None = None  # the text of an open term link without definition

    def _lose(self, message: str) -> None:
        if message not in self.result.losses:
            self.result.losses.append(message)

    def handle_starttag(self, tag, attrs):
        if tag in BLOCK_TAGS:
            self._text.append("\n")
        if tag in HIDDEN_TAGS:
            self._lose(f"the <{tag}> element and everything in it")
            self._hidden_depth += 1
            return
        if tag not in STORED_TAGS and tag not in NOISE_TAGS:
            kept = "" if tag in VOID_TAGS else " (its text would be kept, its meaning lost)"
            self._lose(f"the <{tag}> element{kept}")
        allowed = STORED_ATTRIBUTES.get(tag, set()) if tag in STORED_TAGS else set()
        attributes = dict(attrs)
        for name, value in attrs:
            if name in allowed:
                continue
            if name.startswith("on"):
                self._lose(f"the {name} attribute on <{tag}> (scripts are not allowed)")
            elif name not in NOISE_ATTRIBUTES and not name.startswith("data-") and tag in STORED_TAGS:
                self._lose(f'the {name}="{value}" attribute on <{tag}>')
        if tag == "a" and "href" in attributes:
            self._check_link(attributes["href"] or "", attributes.get("title") or "")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in HIDDEN_TAGS:
            self._hidden_depth -= 1

    def handle_endtag(self, tag):
        if tag in HIDDEN_TAGS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        if tag in BLOCK_TAGS:
            self._text.append("\n")
        if tag == "a" and self._term is not None:
            self.result.undefined_terms.append("".join(self._term).strip())
            self._term = None

    def handle_data(self, data):
        if self._hidden_depth:
            return
        self._text.append(data)
        if self._term is not None:
            self._term.append(data)

    def close(self):
        super().close()
        self.result.text = " ".join("".join(self._text).split())

    def _check_link(self, href: str, title: str) -> None:
        match = SCHEME.match(href)
        if match is None:
            self._lose(f'the link to "{href}" (not a page of this site or a full web address)')
        elif match.group(1).lower() not in URL_SCHEMES:
            self._lose(f'the link to "{href}" ({match.group(1)}: links are not allowed)')
        elif href.startswith("page:") and not PAGE_LINK.match(href):
            self._lose(f'the link to "{href}" (not a valid page reference)')
        elif href.startswith("term:"):
            if not TERM_LINK.match(href):
                self._lose(f'the glossary term "{href}" (name it with lowercase letters, digits and hyphens)')
            elif not title.strip():
                self._term = []


def _block_text(html: str) -> str:
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.result.text


def inspect(html: str) -> Inspection:
    """Describe everything beyond formatting noise that :func:`sanitise` would
    remove, and the glossary terms that lack a definition.

    No losses means the sanitised text says exactly what the input said.
    """
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    result = inspector.result
    if not result.losses and _block_text(sanitise(html)) != result.text:
        # A safety net for anything the rules above do not name.
        result.losses.append("some of the text")
    return result


SITE_LINK = re.compile(r"""<a\b[^>]*>""", re.I)
SITE_HREF = re.compile(r"""(\bhref\s*=\s*)(?P<quote>["'])(?P<path>/[^"']*)(?P=quote)""", re.I)


def resolve_site_links(html: str, page_id_for_path: Callable[[str], int | None]) -> tuple[str, list[str]]:
    """Replace links to this site's public addresses with ``page:<id>`` references.

    ``page_id_for_path`` maps a public path such as ``/cy/a/b/`` to a page id or
    None. An ``#anchor`` in the address is kept. Returns the new HTML and the
    addresses that match no page.
    """
    unknown: list[str] = []

    def replace_href(match: re.Match) -> str:
        address = match.group("path")
        path, _hash, anchor = address.partition("#")
        page_id = page_id_for_path(path.split("?")[0])
        if page_id is None:
            unknown.append(address)
            return match.group(0)
        reference = f"page:{page_id}#{anchor}" if anchor else f"page:{page_id}"
        return f'{match.group(1)}"{reference}"'

    def replace_in_tag(match: re.Match) -> str:
        return SITE_HREF.sub(replace_href, match.group(0))

    return SITE_LINK.sub(replace_in_tag, html), unknown


def page_references(html: str) -> set[int]:
    """The ids of the pages a stored body links to."""
    return {int(page_id) for page_id in re.findall(r'href="page:([1-9][0-9]*)', html)}


@dataclass
class Rendered:
    """A section body ready for the public: HTML plus what it refers to."""

    html: str
    terms: list[dict] = field(default_factory=list)
    page_ids: set[int] = field(default_factory=set)


class _Renderer(HTMLParser):
    def __init__(self, url_for_page: Callable[[int], str | None], anchor_for_term: Callable[[str, str], str]):
        super().__init__(convert_charrefs=True)
        self.url_for_page = url_for_page
        self.anchor_for_term = anchor_for_term
        self.out: list[str] = []
        self.result = Rendered(html="")
        self._links: list[bool] = []  # for each open <a>: was it kept?
        self._term: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "br":
            self.out.append("<br>")
            return
        if tag != "a":
            self.out.append(f"<{tag}>")
            return
        href = attrs.get("href") or ""
        title = (attrs.get("title") or "").strip()
        url = None
        if match := PAGE_LINK.match(href):
            page_id = int(match.group("id"))
            self.result.page_ids.add(page_id)
            url = self.url_for_page(page_id)
            if url and match.group("anchor"):
                url = f"{url}#{match.group('anchor')}"
        elif (match := TERM_LINK.match(href)) and title and self._term is None:
            self._term = {"name": match.group("name"), "definition": title, "text": [], "at": len(self.out)}
            self.out.append("")  # the opening tag, once the term's anchor is known
            self._links.append(True)
            return
        elif (match := SCHEME.match(href)) and match.group(1).lower() in PUBLIC_URL_SCHEMES:
            url = href
        self._links.append(url is not None)
        if url is not None:
            self.out.append(f'<a href="{escape(url)}">')

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "br":
            return
        if tag != "a":
            self.out.append(f"</{tag}>")
            return
        kept = self._links.pop() if self._links else False
        if self._term is not None:
            text = " ".join("".join(self._term["text"]).split())
            anchor = self.anchor_for_term(self._term["name"], self._term["definition"])
            self.out[self._term["at"]] = f'<a class="term" href="#{anchor}">'
            if anchor not in {term["anchor"] for term in self.result.terms}:
                self.result.terms.append({"anchor": anchor, "term": text, "definition": self._term["definition"]})
            self._term = None
        if kept:
            self.out.append("</a>")

    def handle_data(self, data):
        if self._term is not None:
            self._term["text"].append(data)
        self.out.append(escape(data, quote=False))


def render(
    stored_html: str,
    *,
    url_for_page: Callable[[int], str | None],
    anchor_for_term: Callable[[str, str], str] = lambda name, definition: f"term-{name}",
) -> Rendered:
    """Turn stored rich text into public HTML.

    Page references become the target's current address, or plain text when the
    target has no live version; glossary terms link to the page's list of terms
    (``anchor_for_term(name, definition)`` names their place in it). The input is
    sanitised again first, and so is the output.
    """
    renderer = _Renderer(url_for_page, anchor_for_term)
    renderer.feed(sanitise(stored_html))
    renderer.close()
    renderer.result.html = nh3.clean(
        "".join(renderer.out),
        tags=set(STORED_TAGS),
        attributes={"a": {"href"}},
        allowed_classes={"a": {"term"}},
        url_schemes=set(PUBLIC_URL_SCHEMES),
        link_rel=None,
    )
    return renderer.result


class _Reader(HTMLParser):
    """Stored rich text as plain lines, with every meaningful mark spelled out."""

    def __init__(self, label_for_page: Callable[[int], str]):
        super().__init__(convert_charrefs=True)
        self.label_for_page = label_for_page
        self.out: list[str] = []
        self._lists: list[list] = []  # for each open list: [ordered, items so far]
        self._links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"p", "h3", "h4"}:
            self.out.append("\n\n" + ("### " if tag != "p" else ""))
        elif tag in {"ul", "ol"}:
            self._lists.append([tag == "ol", 0])
        elif tag == "li":
            ordered, count = self._lists[-1] if self._lists else (False, 0)
            if self._lists:
                self._lists[-1][1] = count + 1
            self.out.append(f"\n{count + 1}. " if ordered else "\n• ")
        elif tag == "br":
            self.out.append("\n")
        elif tag == "strong":
            self.out.append("**")
        elif tag == "em":
            self.out.append("*")
        elif tag in {"sup", "sub"}:
            self.out.append("^{" if tag == "sup" else "_{")
        elif tag == "a":
            href = attrs.get("href") or ""
            if match := PAGE_LINK.match(href):
                target = self.label_for_page(int(match.group("id")))
                anchor = f"#{match.group('anchor')}" if match.group("anchor") else ""
                self._links.append(f" → {target}{anchor}]")
            elif TERM_LINK.match(href):
                self._links.append(f" — definition: {attrs.get('title') or '(none)'}]")
            else:
                self._links.append(f" → {href}]")
            self.out.append("[")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag in {"ul", "ol"} and self._lists:
            self._lists.pop()
        elif tag == "strong":
            self.out.append("**")
        elif tag == "em":
            self.out.append("*")
        elif tag in {"sup", "sub"}:
            self.out.append("}")
        elif tag == "a" and self._links:
            self.out.append(self._links.pop())

    def handle_data(self, data):
        self.out.append(" ".join(data.split("\n")))


def readable(stored_html: str, *, label_for_page: Callable[[int], str]) -> str:
    """Stored rich text as plain text for reviewing changes: lists as bullets,
    ``**bold**``, ``*italic*``, ``^{superscript}``, and each link or glossary
    term followed by where it leads or what it means."""
    reader = _Reader(label_for_page)
    reader.feed(stored_html or "")
    reader.close()
    return "\n".join(line.rstrip() for line in "".join(reader.out).strip().split("\n"))
