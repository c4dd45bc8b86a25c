"""Rich text for section bodies: what editors may store, and how it is shown.

Stored form (what the editor writes and reviewers sign off) is a small HTML
vocabulary: paragraphs, sub-headings, lists, bold/italic/strike-through,
super/subscript, abbreviations, line breaks and links. Paragraphs, headings,
lists, list items and spans may say what language their text is in and which
way it runs (``lang``, ``dir``); an ordered list may start at another number
and count in letters or roman numerals (``start``, ``type``); an abbreviation
carries its expansion (``<abbr title>``). A span is kept only for its language
or direction. Two link schemes carry meaning of their own:

- ``page:<id>`` (optionally ``page:<id>#anchor``) links to another page of the
  site by reference, so a move or rename never breaks it. Editors paste the
  page's public address (``/en/some/page/``); :func:`resolve_site_links` turns
  it into the reference.
- ``term:<name>`` marks a glossary term; the link's title is its definition.
  Both are part of the signed-off wording.

Pasted inline styles that carry meaning become elements before anything else
happens (``font-weight: bold`` a ``<strong>``, ``vertical-align: super`` a
``<sup>``, ...); styles that mean nothing to a reader (fonts, sizes, margins,
black text on white) are dropped; any other (a colour, underlining, hidden
text) is refused.

Sanitising happens twice with nh3: on save (:func:`sanitise`) and when a page is
rendered for the public (:func:`render`). Before saving, :func:`inspect` says
what sanitising would remove; anything beyond formatting noise is refused,
because in clinical text a silently dropped tag, attribute or style can change
meaning (``10<sup>9</sup>`` becoming ``109``, Arabic shown left to right). What
is stored is what reviewers see spelled out in :func:`readable` and what the
public gets from :func:`render`.
"""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

import nh3

STORED_TAGS = frozenset(
    {"p", "h3", "h4", "ul", "ol", "li", "strong", "em", "s", "sub", "sup", "br", "a", "abbr", "span"}
)
# The language and direction of a stretch of text: a screen reader and the
# browser's layout need both, so they are part of the wording.
TEXT_ATTRIBUTES = frozenset({"lang", "dir"})
STORED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start", "type", *TEXT_ATTRIBUTES},
    **{tag: set(TEXT_ATTRIBUTES) for tag in ("p", "h3", "h4", "ul", "li", "span")},
}
# A public link carries no title: a glossary term's definition is in the page's list of terms.
PUBLIC_ATTRIBUTES = STORED_ATTRIBUTES | {"a": {"href"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "page", "term"})
PUBLIC_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
MAX_BODY_CHARACTERS = 100_000

# BCP 47: language (with extended subtags), script, region, variants, extensions, private use.
LANGUAGE_TAG = re.compile(
    r"[a-z]{2,3}(?:-[a-z]{3}){0,3}(?:-[a-z]{4})?(?:-(?:[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*(?:-[a-wyz0-9](?:-[a-z0-9]{2,8})+)*(?:-x(?:-[a-z0-9]{1,8})+)?"
    r"|x(?:-[a-z0-9]{1,8})+",
    re.IGNORECASE | re.ASCII,
)
DIRECTIONS = frozenset({"ltr", "rtl", "auto"})
LIST_NUMBERING = frozenset({"1", "a", "A", "i", "I"})
LARGEST_LIST_START = 2**31 - 1  # what browsers count to

# Removing these changes nothing in the meaning of the text. (A span is stored
# when it gives a language or direction; without one it is noise too.)
NOISE_TAGS = frozenset({"font", "o:p"})
NOISE_ATTRIBUTES = frozenset({"class", "style", "id", "rel", "target", "spellcheck"})
# Elements whose content is not text a reader sees; sanitising drops them whole.
HIDDEN_TAGS = frozenset({"script", "style", "template", "textarea", "noscript", "iframe", "object", "title"})
# Elements that separate blocks of text: "2 tablets" and "twice daily" in two
# blocks must not silently become "2 tabletstwice daily".
BLOCK_TAGS = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "br", "table", "tr", "td", "th"}
    | {"blockquote", "pre", "section", "article", "header", "footer", "dl", "dt", "dd", "hr", "figure"}
)
VOID_TAGS = frozenset(
    {"br", "img", "hr", "input", "meta", "link", "source", "track", "wbr", "area", "embed", "col", "base", "param"}
)

PAGE_LINK = re.compile(r"^page:(?P<id>[1-9][0-9]*)(?:#(?P<anchor>[\w-]+))?$")
TERM_LINK = re.compile(r"^term:(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*)$")
SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")

# The editor wraps every list item's text in a paragraph; storing one form only
# keeps an unchanged list from showing up as changed in the page's history.
LONE_PARAGRAPH_ITEM = re.compile(r"<li><p>((?:(?!</?p>|</?li>).)*)</p></li>", re.S)
# A paragraph or heading with nothing to read in it (Enter pressed twice, a line of spaces):
# readers would meet a gap. Lone line breaks and spaces inside the inline marks count as
# nothing too. (List items stay: an empty one in a numbered list keeps the numbers the
# reviewer signed off.) ``\s`` matches a no-break space as well.
EMPTY_BLOCK = re.compile(
    r"<(p|h3|h4)(?:\s[^>]*)?>(?:\s|&nbsp;|<br>|<(strong|em|s|sub|sup|span)(?:\s[^>]*)?>(?:\s|&nbsp;|<br>)*</\2>)*</\1>"
)


def kept_value(tag: str, name: str, value: str) -> str | None:
    """The value attribute ``name`` of ``<tag>`` is stored with, or None if it cannot
    be kept (an invalid direction, language, list start or numbering)."""
    if name == "dir":
        return value.lower() if value.lower() in DIRECTIONS else None
    if name == "lang":
        return value if LANGUAGE_TAG.fullmatch(value) else None
    if tag == "ol" and name == "start":
        valid = re.fullmatch(r"[0-9]{1,10}", value) and 0 < int(value) <= LARGEST_LIST_START
        return str(int(value)) if valid else None
    if tag == "ol" and name == "type":
        return value if value in LIST_NUMBERING else None
    return value


class _Parser(HTMLParser):
    """HTMLParser reading ``<![...]>`` as browsers do (a comment up to the first ``>``),
    where the standard library would raise on an unknown keyword."""

    def __init__(self):
        super().__init__(convert_charrefs=True)

    def parse_marked_section(self, i, report=1):
        end = self.rawdata.find(">", i + 3)
        if end < 0:
            return -1
        self.handle_comment(self.rawdata[i + 3 : end])
        return end + 1


# Inline styles. What a declaration means to a reader, if anything:
STRONG, EM, STRUCK, SUPERSCRIPT, SUBSCRIPT = "strong", "em", "s", "sup", "sub"
STYLE_ELEMENTS = (STRONG, EM, STRUCK, SUPERSCRIPT, SUBSCRIPT)  # the order they nest in
LOST, HIDES = "lost", "hides"
NOISE_PROPERTIES = re.compile(
    r"font-family|font-size|line-height|margin(-.+)?|padding(-.+)?|text-align|text-indent|letter-spacing"
    r"|white-space|mso-.*"
)
PLAIN_COLOURS = frozenset(
    {"black", "windowtext", "auto", "inherit", "transparent", "white", "#000", "#000000", "#fff", "#ffffff"}
    | {"rgb(0,0,0)", "rgb(255,255,255)"}
)
# Keywords that take the value from elsewhere: they add nothing of their own.
GLOBAL_VALUES = frozenset({"inherit", "initial", "unset", "revert"})
# What text looks like anyway, spelled out by a paste (font-variant: normal too).
SPELLED_OUT_DEFAULTS = frozenset({("visibility", "visible"), ("text-transform", "none"), ("text-shadow", "none")})
CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
IMPORTANT = re.compile(r"\s*!\s*important\s*$", re.I)


def is_plain_colour(value: str) -> bool:
    """Whether a colour is the ordinary black or white of pasted text (so means nothing)."""
    return "".join(value.lower().split()) in PLAIN_COLOURS


def _declarations(style: str) -> list[tuple[str, str]]:
    """A style attribute's declarations as (property, value), in order."""
    parts, current, quote, depth = [], [], "", 0
    for char in CSS_COMMENT.sub(" ", style):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "()":
            depth = depth + 1 if char == "(" else max(0, depth - 1)
        elif char == ";" and not depth:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    declarations = []
    for part in parts:
        name, colon, value = part.partition(":")
        if colon and name.strip() and value.strip():
            declarations.append((name.strip().lower(), " ".join(value.split())))
    return declarations


def _weight(value: str) -> str | None:
    if value in {"bold", "bolder"} or (re.fullmatch(r"[0-9]{3,4}", value) and 600 <= int(value) <= 1000):
        return STRONG
    return None if value in {"normal", "400"} else LOST


def _effects(name: str, value: str) -> dict[str, str | None]:
    """What declaration ``name: value`` does, by the aspect of the text it sets:
    an element that says the same, None for nothing a reader needs, LOST or HIDES."""
    value = IMPORTANT.sub("", value).lower()
    if value in GLOBAL_VALUES or NOISE_PROPERTIES.fullmatch(name):
        return {name: None}
    if name == "font-weight":
        return {"weight": _weight(value)}
    if name == "font-style":
        slant = value.split()[0] if value else ""
        return {"slant": EM if slant in {"italic", "oblique"} else None if slant == "normal" else LOST}
    if name == "font":  # the shorthand: [style] [variant] [weight] size[/line-height] family
        words = value.replace(",", " ").split()
        effects = {
            "weight": STRONG if any(_weight(word) == STRONG for word in words) else None,
            "slant": EM if {"italic", "oblique"} & {*words} else None,
        }
        return effects | ({"font-variant": LOST} if "small-caps" in words else {})
    if name == "vertical-align":
        return {"height": {"super": SUPERSCRIPT, "sub": SUBSCRIPT, "baseline": None}.get(value, LOST)}
    if name in {"text-decoration", "text-decoration-line"}:
        words = set(value.split())
        lines = STRUCK if "line-through" in words else None
        return {"line": LOST if words & {"underline", "overline", "blink"} else lines}
    if name in {"color", "background", "background-color"}:
        return {name: None if is_plain_colour(value) else LOST}
    if (name, value) in {("display", "none"), ("visibility", "hidden"), ("visibility", "collapse")}:
        return {name: HIDES}
    if (name.startswith("font-variant") and value == "normal") or (name, value) in SPELLED_OUT_DEFAULTS:
        return {name: None}
    return {name: LOST}


@dataclass
class Styling:
    """What an element's style attribute means to a reader."""

    elements: list[str] = field(default_factory=list)  # the elements that say the same
    lost: list[str] = field(default_factory=list)  # declarations sanitising would lose
    hiding: list[str] = field(default_factory=list)  # declarations that hide text


def read_style(style: str) -> Styling:
    """Read a style attribute as a browser would (the last declaration of an aspect wins)."""
    effects: dict[str, tuple[str, str | None]] = {}
    for name, value in _declarations(style):
        for aspect, effect in _effects(name, value).items():
            effects.pop(aspect, None)  # keep declarations in their order
            effects[aspect] = (f"{name}: {value}", effect)
    found = {effect for _declaration, effect in effects.values()}
    return Styling(
        elements=[element for element in STYLE_ELEMENTS if element in found],
        lost=list(dict.fromkeys(declaration for declaration, effect in effects.values() if effect == LOST)),
        hiding=list(dict.fromkeys(declaration for declaration, effect in effects.values() if effect == HIDES)),
    )


# An HTML parser's idea of which elements are open, closely enough to put the
# elements a style means where the browser would have applied the style.
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
CLOSES_PARAGRAPH = HEADINGS | frozenset(
    {"address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl", "fieldset"}
    | {"figcaption", "figure", "footer", "form", "header", "hgroup", "main", "menu", "nav", "ol", "p", "search"}
    | {"section", "summary", "ul", "pre", "listing", "li", "dd", "dt", "plaintext", "table", "hr", "xmp"}
)
SCOPE = frozenset({"applet", "caption", "html", "table", "td", "th", "marquee", "object", "template", "svg", "math"})
FORMATTING_TAGS = frozenset({"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong"})
SPECIAL_TAGS = (
    CLOSES_PARAGRAPH
    | VOID_TAGS
    | HIDDEN_TAGS
    | SCOPE
    | frozenset(
        {"body", "button", "colgroup", "frame", "frameset", "head", "noembed", "noframes", "select", "tbody", "tfoot"}
        | {"thead", "tr", "basefont", "bgsound", "keygen"}
    )
)


# The elements that bound where an end or implied end looks for what it closes.
BOUNDARIES = {
    "scope": SCOPE,
    "button scope": SCOPE | {"button"},
    "list item scope": SCOPE | {"ol", "ul"},
    "item": SPECIAL_TAGS - {"address", "div", "p"},
    "special": SPECIAL_TAGS,
}


class _StyleConverter(_Parser):
    """Insert, around the text of each element with a meaningful inline style, the
    elements that say the same (``<p style="font-weight:bold">x</p>`` becomes
    ``<p style="..."><strong>x</strong></p>``), and name the styles whose meaning
    sanitising would lose. The input is otherwise left exactly as it was.

    An inserted element opens just before the first text or inline element it
    covers, and closes before a block starts or the styled element ends, so that
    it never holds a paragraph or list item of its own. Every step costs the same
    however deeply the input nests.
    """

    def __init__(self, html: str):
        super().__init__()
        self.html = html
        self.losses: list[str] = []
        self._reported: set[str] = set()
        self._line_starts = [0] + [match.end() for match in re.finditer("\n", html)]
        self._insertions: list[tuple[int, str]] = []
        self._open: list[str] = []  # the open elements, outermost first
        self._where: dict[str, list[int]] = {}  # for each tag: where in _open it is open
        self._bounds: dict[str, list[int]] = {name: [] for name in BOUNDARIES}  # where the boundaries are open
        self._wanted: list[tuple[str, int]] = []  # what the open elements' styles mean: (element, whose)
        self._inserted: list[tuple[str, int]] = []  # inserted, still open: (element, how many were open)
        self._hidden_depth = 0

    def converted(self) -> str:
        """The input with the inserted elements."""
        self.feed(self.html)
        self.close()
        out, done = [], 0
        for at, markup in sorted(self._insertions, key=lambda insertion: insertion[0]):
            out += [self.html[done:at], markup]
            done = at
        return "".join([*out, self.html[done:]])

    def _at(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag, attrs):
        if self._hidden_depth or tag in HIDDEN_TAGS:
            self._hidden_depth += tag in HIDDEN_TAGS
            return
        at = self._at()
        self._end_implied(tag, at)
        if tag in BLOCK_TAGS and tag != "br":
            self._close_inserted(len(self._open), at)
        elif tag not in VOID_TAGS:
            self._open_inserted(at)
        if tag in VOID_TAGS:
            return
        styling = read_style(next((value for name, value in attrs if name == "style"), None) or "")
        if styling.lost:
            self._lose(
                f'the style "{"; ".join(styling.lost)}" on <{tag}> '
                "(colour or other styling would be lost: use bold, italic or a heading)"
            )
        if styling.hiding:
            self._lose(f'the style "{"; ".join(styling.hiding)}" on <{tag}> (it hides text that the site would show)')
        wanted = {element for element, _whose in self._wanted}
        for element in styling.elements:
            if element != tag and element not in wanted and not self._where.get(element):
                self._wanted.append((element, len(self._open)))
        self._push(tag)

    def handle_startendtag(self, tag, attrs):
        # A browser ignores the slash of <span/>: the span stays open.
        self.handle_starttag(tag, attrs)
        if tag in HIDDEN_TAGS:
            self._hidden_depth -= 1

    def handle_endtag(self, tag):
        if self._hidden_depth:
            self._hidden_depth -= tag in HIDDEN_TAGS
            return
        if (index := self._matching(tag)) is not None:
            self._close_from(index, self._at())

    def handle_data(self, data):
        if not self._hidden_depth and data.strip():
            self._open_inserted(self._at())

    def close(self):
        super().close()
        self._close_inserted(0, len(self.html))

    def _lose(self, message: str) -> None:
        if message not in self._reported:
            self._reported.add(message)
            self.losses.append(message)

    def _push(self, tag: str) -> None:
        index = len(self._open)
        self._open.append(tag)
        self._where.setdefault(tag, []).append(index)
        for name, tags in BOUNDARIES.items():
            if tag in tags:
                self._bounds[name].append(index)

    def _close_from(self, index: int, at: int) -> None:
        """Close the open element at ``index`` and everything inside it."""
        while len(self._open) > index:
            tag = self._open.pop()
            self._where[tag].pop()
            for name, tags in BOUNDARIES.items():
                if tag in tags:
                    self._bounds[name].pop()
        while self._wanted and self._wanted[-1][1] >= index:
            self._wanted.pop()
        self._close_inserted(index + 1, at)

    def _open_inserted(self, at: int) -> None:
        inserted = {element for element, _depth in self._inserted}
        for element, _whose in self._wanted:
            if element not in inserted:
                self._insertions.append((at, f"<{element}>"))
                self._inserted.append((element, len(self._open)))

    def _close_inserted(self, depth: int, at: int) -> None:
        while self._inserted and self._inserted[-1][1] >= depth:
            self._insertions.append((at, f"</{self._inserted.pop()[0]}>"))

    def _in_scope(self, tags, boundaries: str) -> int | None:
        """Where the innermost open element of ``tags`` is, unless one of ``boundaries`` is open inside it."""
        found = max((self._where[tag][-1] for tag in tags if self._where.get(tag)), default=None)
        bound = self._bounds[boundaries][-1] if self._bounds[boundaries] else -1
        return found if found is not None and found >= bound else None

    def _end_implied(self, tag: str, at: int) -> None:
        """Close what a start tag ends without saying so (a paragraph, a list item)."""
        if tag in {"li", "dd", "dt"}:
            index = self._in_scope({"li"} if tag == "li" else {"dd", "dt"}, "item")
            if index is not None:
                self._close_from(index, at)
        if tag in CLOSES_PARAGRAPH and (index := self._in_scope({"p"}, "button scope")) is not None:
            self._close_from(index, at)
        if tag in HEADINGS and self._open and self._open[-1] in HEADINGS:
            self._close_from(len(self._open) - 1, at)

    def _matching(self, tag: str) -> int | None:
        """The open element an end tag closes, if any."""
        if tag in SPECIAL_TAGS or tag in FORMATTING_TAGS:
            scope = {"p": "button scope", "li": "list item scope"}.get(tag, "scope")
            return self._in_scope(HEADINGS if tag in HEADINGS else {tag}, scope)
        return self._in_scope({tag}, "special")


def convert_styles(html: str) -> str:
    """``html`` with the elements its inline styles mean inserted. :func:`sanitise`
    starts here; :func:`inspect` reads styles with the same converter."""
    return _StyleConverter(html).converted()


SPAN_TAG = re.compile(r"<(/?)span\b([^>]*)>")


def _unwrap_bare_spans(clean: str) -> str:
    # nh3's output is well formed and escapes every "<" that is not markup, so
    # its tags can be matched up without parsing it again.
    kept: list[bool] = []

    def replace(match: re.Match) -> str:
        if match.group(1):
            return match.group(0) if kept and kept.pop() else ""
        kept.append(bool(match.group(2).strip()))
        return match.group(0) if kept[-1] else ""

    return SPAN_TAG.sub(replace, clean)


def _allowed(attributes: dict[str, set[str]]) -> dict[str, set[str]]:
    # "*" keeps nh3 from allowing its own defaults (lang, title) on every tag.
    return {"*": set()} | {tag: set(names) for tag, names in attributes.items()}


# The same wording is sanitised and inspected again and again (each save of a page, each
# step of its sign-off), and both are functions of the text alone: recent answers are kept,
# for texts up to this length (so that the memory they take stays bounded).
REMEMBERED_LENGTH = 20_000


def _remembered(function):
    cached = functools.lru_cache(maxsize=512)(function)
    return functools.wraps(function)(lambda html: cached(html) if len(html) <= REMEMBERED_LENGTH else function(html))


@_remembered
def sanitise(html: str) -> str:
    """Return ``html`` reduced to the stored vocabulary, in one canonical form, with
    meaningful inline styles turned into elements. Never raises."""
    clean = _clean(convert_styles(html))
    for _attempt in range(3):
        # Removing an element can leave markup that parses into another shape
        # (<li><details><li> leaves one item inside another): clean until stable.
        again = _clean(clean)
        if again == clean:
            break
        clean = again
    return LONE_PARAGRAPH_ITEM.sub(r"<li>\1</li>", clean.strip())


def _clean(html: str) -> str:
    clean = nh3.clean(
        html,
        tags=set(STORED_TAGS),
        attributes=_allowed(STORED_ATTRIBUTES),
        attribute_filter=kept_value,
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        link_rel=None,
        strip_comments=True,
    )
    return EMPTY_BLOCK.sub("", _unwrap_bare_spans(clean))


@dataclass
class Inspection:
    """What an editor's input holds that the site would not keep as it is."""

    losses: list[str] = field(default_factory=list)
    undefined_terms: list[str] = field(default_factory=list)
    text: str = ""


class _Inspector(_StyleConverter):
    """Reads the input as the converter does (so that a style which becomes an
    element is no loss) and names everything else sanitising would remove."""

    def __init__(self, html: str):
        super().__init__(html)
        self.result = Inspection(losses=self.losses)
        self._text: list[str] = []
        self._term: list[str] | None = None  # the text of an open term link without definition

    def handle_starttag(self, tag, attrs):
        if tag in BLOCK_TAGS:
            self._text.append("\n")
        if tag in HIDDEN_TAGS:
            self._lose(f"the <{tag}> element and everything in it")
        else:
            self._check_element(tag, attrs)
        super().handle_starttag(tag, attrs)

    def _check_element(self, tag, attrs):
        if tag not in STORED_TAGS and tag not in NOISE_TAGS:
            kept = "" if tag in VOID_TAGS else " (its text would be kept, its meaning lost)"
            self._lose(f"the <{tag}> element{kept}")
        allowed = STORED_ATTRIBUTES.get(tag, set()) if tag in STORED_TAGS else set()
        attributes = dict(attrs)
        for name, value in attrs:
            value = value or ""
            if name in allowed:
                if kept_value(tag, name, value) is None:
                    self._lose(f'the {name}="{value}" attribute on <{tag}>')
            elif name.startswith("on"):
                self._lose(f"the {name} attribute on <{tag}> (scripts are not allowed)")
            elif tag == "font" and name == "color" and not is_plain_colour(value):
                self._lose(
                    f'the color="{value}" attribute on <font> '
                    "(colour or other styling would be lost: use bold, italic or a heading)"
                )
            elif (tag in STORED_TAGS and name not in NOISE_ATTRIBUTES and not name.startswith("data-")) or (
                tag in NOISE_TAGS and name in TEXT_ATTRIBUTES
            ):
                self._lose(f'the {name}="{value}" attribute on <{tag}>')
        if tag == "a" and "href" in attributes:
            self._check_link(attributes["href"] or "", attributes.get("title") or "")

    def handle_endtag(self, tag):
        if tag in BLOCK_TAGS:
            self._text.append("\n")
        if tag == "a" and self._term is not None:
            self.result.undefined_terms.append("".join(self._term).strip())
            self._term = None
        super().handle_endtag(tag)

    def handle_data(self, data):
        if not self._hidden_depth:
            self._text.append(data)
            if self._term is not None:
                self._term.append(data)
        super().handle_data(data)

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
    inspector = _Inspector(html)
    inspector.converted()
    return inspector.result.text


def inspect(html: str) -> Inspection:
    """Describe everything beyond formatting noise that :func:`sanitise` would
    remove, and the glossary terms that lack a definition.

    No losses means the sanitised text says exactly what the input said. Styles
    are read as :func:`sanitise` reads them: one that becomes an element is no loss.
    """
    losses, undefined_terms, text = _inspected(html)
    return Inspection(losses=list(losses), undefined_terms=list(undefined_terms), text=text)


@_remembered
def _inspected(html: str) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    inspector = _Inspector(html)
    inspector.converted()
    result = inspector.result
    if not result.losses and _block_text(sanitise(html)) != result.text:
        # A safety net for anything the rules above do not name.
        result.losses.append("some of the text")
    return tuple(result.losses), tuple(result.undefined_terms), result.text


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


class _Renderer(_Parser):
    def __init__(self, url_for_page: Callable[[int], str | None], anchor_for_term: Callable[[str, str], str]):
        super().__init__()
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
            allowed = PUBLIC_ATTRIBUTES.get(tag, set())
            kept = "".join(
                f' {name}="{escape(value)}"' for name, value in attrs.items() if name in allowed and value is not None
            )
            self.out.append(f"<{tag}{kept}>")
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
    (``anchor_for_term(name, definition)`` names their place in it). Languages,
    directions, list numbering and abbreviations are shown as stored. The input is
    sanitised again first, and so is the output.
    """
    renderer = _Renderer(url_for_page, anchor_for_term)
    renderer.feed(sanitise(stored_html))
    renderer.close()
    renderer.result.html = nh3.clean(
        "".join(renderer.out),
        tags=set(STORED_TAGS),
        attributes=_allowed(PUBLIC_ATTRIBUTES),
        attribute_filter=kept_value,
        allowed_classes={"a": {"term"}},
        url_schemes=set(PUBLIC_URL_SCHEMES),
        link_rel=None,
    )
    return renderer.result


ROMAN_NUMERALS = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)  # fmt: skip


def _list_number(number: int, numbering: str) -> str:
    """How an ordered list of ``type`` ``numbering`` shows item ``number``."""
    if numbering in {"a", "A"} and number > 0:
        letters = ""
        while number > 0:
            number, letter = divmod(number - 1, 26)
            letters = chr(ord("a") + letter) + letters
        return letters.upper() if numbering == "A" else letters
    if numbering in {"i", "I"} and 0 < number < 4000:
        roman = ""
        for value, numeral in ROMAN_NUMERALS:
            count, number = divmod(number, value)
            roman += numeral * count
        return roman if numbering == "I" else roman.lower()
    return str(number)


def _marks(attrs: dict) -> str:
    """A block's language and direction as the reader shows them: ``lang=cy dir=rtl``."""
    return " ".join(f"{name}={attrs[name]}" for name in ("lang", "dir") if attrs.get(name))


class _Reader(_Parser):
    """Stored rich text as plain lines, with every meaningful mark spelled out."""

    def __init__(self, label_for_page: Callable[[int], str]):
        super().__init__()
        self.label_for_page = label_for_page
        self.out: list[str] = []
        self._lists: list[list] = []  # for each open list: [ordered, items so far, start, numbering]
        self._links: list[str] = []
        self._closing: dict[str, list[str]] = {"span": [], "abbr": []}  # what each open span or abbr ends with

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        marks = _marks(attrs)
        if tag in {"p", "h3", "h4"}:
            self.out.append("\n\n" + ("### " if tag != "p" else "") + (f"{{{marks}}} " if marks else ""))
        elif tag in {"ul", "ol"}:
            start = attrs.get("start") or ""
            start = int(start) if re.fullmatch(r"[0-9]{1,10}", start) else 1
            numbering = attrs.get("type") if attrs.get("type") in LIST_NUMBERING else "1"
            self._lists.append([tag == "ol", 0, start, numbering])
            if marks:
                self.out.append(f"\n{{{marks}}}")
        elif tag == "li":
            ordered, count, start, numbering = self._lists[-1] if self._lists else (False, 0, 1, "1")
            if self._lists:
                self._lists[-1][1] = count + 1
            self.out.append(f"\n{_list_number(start + count, numbering)}. " if ordered else "\n• ")
            self.out.append(f"{{{marks}}} " if marks else "")
        elif tag == "br":
            self.out.append("\n")
        elif tag == "strong":
            self.out.append("**")
        elif tag == "em":
            self.out.append("*")
        elif tag == "s":
            self.out.append("~~")
        elif tag in {"sup", "sub"}:
            self.out.append("^{" if tag == "sup" else "_{")
        elif tag == "span":
            self.out.append(f"{{{marks}: " if marks else "")
            self._closing["span"].append("}" if marks else "")
        elif tag == "abbr":
            title = (attrs.get("title") or "").strip()
            self._closing["abbr"].append(f" (abbreviation: {title})" if title else " (abbreviation)")
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
        elif tag == "s":
            self.out.append("~~")
        elif tag in {"sup", "sub"}:
            self.out.append("}")
        elif self._closing.get(tag):
            self.out.append(self._closing[tag].pop())
        elif tag == "a" and self._links:
            self.out.append(self._links.pop())

    def handle_data(self, data):
        self.out.append(" ".join(data.split("\n")))


def readable(stored_html: str, *, label_for_page: Callable[[int], str]) -> str:
    """Stored rich text as plain text for reviewing changes: lists as bullets or
    numbered from their start (``a.``, ``iv.`` where the list counts so),
    ``**bold**``, ``*italic*``, ``~~struck~~``, ``^{superscript}``, a block's
    language and direction as ``{lang=cy dir=rtl}`` before its text, a span's as
    ``{lang=la: its text}``, an abbreviation followed by its expansion, and each
    link or glossary term followed by where it leads or what it means."""
    reader = _Reader(label_for_page)
    reader.feed(stored_html or "")
    reader.close()
    return "\n".join(line.rstrip() for line in "".join(reader.out).strip().split("\n"))
