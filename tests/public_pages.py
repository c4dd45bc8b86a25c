"""The public pages the accessibility and HTML checks visit, on the demo content, and
what tests read in them."""

from html.parser import HTMLParser

GLUCAGONOMA = "neuroendocrine-cancer/pancreatic-neuroendocrine-tumours/glucagonoma"
# Live in English only: Welsh and Arabic readers get it in English, under a topic live in Welsh.
ENGLISH_ONLY = "neuroendocrine-cancer/tests-to-diagnose"
PAGES = {
    "home": "/en/",
    "topic": "/en/neuroendocrine-cancer/",
    "glucagonoma-en": f"/en/{GLUCAGONOMA}/",
    "glucagonoma-cy": f"/cy/{GLUCAGONOMA}/",
    "glucagonoma-ar": f"/ar/{GLUCAGONOMA}/",
    "fallback-cy": f"/cy/{ENGLISH_ONLY}/",
    "fallback-ar": f"/ar/{ENGLISH_ONLY}/",
    "search": "/en/search/?q=tumour",
    "search-ar": "/ar/search/?q=glucagon",
    "not-found": "/en/no-such-page/",
}


class _Languages(HTMLParser):
    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __init__(self):
        super().__init__()
        self.open: list[tuple[str, str, str]] = [("", "", "")]  # (tag, lang, dir) in effect
        self.texts: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        attrs = dict(attrs)
        _tag, lang, direction = self.open[-1]
        self.open.append((tag, attrs.get("lang", lang), attrs.get("dir", direction)))

    def handle_endtag(self, tag):
        while len(self.open) > 1 and self.open.pop()[0] != tag:
            pass  # an element closed by its parent's end tag

    def handle_data(self, data):
        if text := " ".join(data.split()):
            self.texts.append((text, *self.open[-1][1:]))


def language_of(html: str, text: str) -> tuple[str, str]:
    """The language and direction (``lang``, ``dir``) in effect where ``text`` appears in
    ``html``: those of the closest element around it that gives them."""
    parser = _Languages()
    parser.feed(html)
    found = {(lang, direction) for words, lang, direction in parser.texts if text in words}
    assert len(found) == 1, f"{text!r} appears in {found or 'no'} language(s)"
    return found.pop()
