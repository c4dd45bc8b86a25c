"""Sanitising and rendering section bodies."""

import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from pages import richtext


class Elements(HTMLParser):
    """Every element and attribute in a fragment."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.found


def assert_harmless(html: str, allowed_schemes=richtext.URL_SCHEMES) -> None:
    for tag, attrs in elements(html):
        assert tag in richtext.STORED_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), name
            assert name in {"href", "title", "class"}, name
            if name == "href":
                scheme = re.match(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*):", value or "")
                assert scheme is None or scheme.group(1).lower() in allowed_schemes, value
    assert "<script" not in html.lower()
    assert "javascript:" not in html.lower()


def test_superscript_survives_sanitising():
    assert richtext.sanitise("<p>10<sup>9</sup> cells per litre</p>") == "<p>10<sup>9</sup> cells per litre</p>"


def test_list_items_are_stored_in_one_form_whatever_the_editor_sends():
    from_editor = "<ul><li><p>liver</p></li><li><p>bones</p></li></ul>"
    assert richtext.sanitise(from_editor) == "<ul><li>liver</li><li>bones</li></ul>"
    two_paragraphs = "<ol><li><p>First.</p><p>Second.</p></li></ol>"
    assert richtext.sanitise(two_paragraphs) == two_paragraphs


def test_formatting_noise_is_not_a_loss():
    pasted = '<p class="MsoNormal" style="margin:0"><span lang="EN-GB">Rash</span> on the <b id="x">legs</b></p>'
    assert richtext.inspect(pasted).losses == ["the <b> element (its text would be kept, its meaning lost)"]
    assert richtext.inspect('<p class="MsoNormal"><span style="color:red">Rash</span></p>').losses == []


def test_dropping_a_meaningful_tag_is_reported():
    losses = richtext.inspect("<p>A count of 10<x-sup>9</x-sup></p><table><tr><td>1</td></tr></table>").losses
    assert "the <x-sup> element (its text would be kept, its meaning lost)" in losses
    assert "the <table> element (its text would be kept, its meaning lost)" in losses


def test_scripts_handlers_and_javascript_links_are_reported():
    losses = richtext.inspect(
        '<p onclick="steal()">Hi</p><script>steal()</script><a href=" JaVaScRiPt:steal()">x</a><img src=x onerror=y>'
    ).losses
    assert "the onclick attribute on <p> (scripts are not allowed)" in losses
    assert "the <script> element and everything in it" in losses
    assert 'the link to " JaVaScRiPt:steal()" (JaVaScRiPt: links are not allowed)' in losses
    assert "the <img> element" in losses


def test_site_addresses_become_page_references():
    html, unknown = richtext.resolve_site_links(
        '<a href="/cy/a/b/">one</a> <a href="/en/nowhere/">two</a> <a href="https://nhs.uk/">three</a>',
        {"/cy/a/b/": 7}.get,
    )
    assert html == '<a href="page:7">one</a> <a href="/en/nowhere/">two</a> <a href="https://nhs.uk/">three</a>'
    assert unknown == ["/en/nowhere/"]


def test_render_links_live_pages_and_unlinks_others():
    rendered = richtext.render(
        '<p><a href="page:1">live</a> and <a href="page:2">withdrawn</a></p>', url_for_page={1: "/cy/live/"}.get
    )
    assert rendered.html == '<p><a href="/cy/live/">live</a> and withdrawn</p>'
    assert rendered.page_ids == {1, 2}


def test_render_turns_terms_into_links_to_their_definitions():
    rendered = richtext.render(
        '<p>Part of our <a href="term:digestive-system" title="Organs that digest food.">digestive system</a>.</p>',
        url_for_page=lambda page_id: None,
    )
    assert rendered.html == '<p>Part of our <a class="term" href="#term-digestive-system">digestive system</a>.</p>'
    assert rendered.terms == [
        {"anchor": "term-digestive-system", "term": "digestive system", "definition": "Organs that digest food."}
    ]


def test_terms_without_definition_are_found():
    html = '<a href="term:x">x</a> <a href="term:y" title="Why">y</a>'
    assert richtext.inspect(html).undefined_terms == ["x"]


def test_a_term_needs_a_name():
    assert richtext.inspect('<a href="term:" title="A definition">x</a>').losses == [
        'the glossary term "term:" (name it with lowercase letters, digits and hyphens)'
    ]


def test_blocks_merged_by_sanitising_are_a_loss():
    # Without their blocks, "Take 2 tablets" and "twice daily" would run together.
    assert richtext.inspect("<div>Take 2 tablets</div><div>twice daily</div>").losses == [
        "the <div> element (its text would be kept, its meaning lost)"
    ]


def test_site_links_keep_their_anchor_and_text_that_looks_like_a_link_is_left_alone():
    html, unknown = richtext.resolve_site_links(
        '<p>Type href="/en/a/" here</p><a title="x" href="/en/a/#symptoms">a</a>', {"/en/a/": 3}.get
    )
    assert html == '<p>Type href="/en/a/" here</p><a title="x" href="page:3#symptoms">a</a>'
    assert unknown == []


def test_a_term_without_definition_renders_as_plain_text():
    rendered = richtext.render('<p><a href="term:x">word</a></p>', url_for_page=lambda page_id: None)
    assert rendered.html == "<p>word</p>"
    assert rendered.terms == []


hostile_fragments = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil/x.js></SCRIPT>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="  JAVASCRIPT:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        '<a href="vbscript:msgbox(1)">x</a>',
        '<svg onload="alert(1)"><circle/></svg>',
        '<iframe src="https://evil.example"></iframe>',
        '<p style="background:url(javascript:alert(1))">x</p>',
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
        '<a href="page:1" onmouseover="alert(1)">x</a>',
        '<form action="javascript:alert(1)"><input type=submit></form>',
        "<!--<script>alert(1)</script>-->",
        '<object data="javascript:alert(1)"></object>',
        '<body onload="alert(1)">',
        '<details open ontoggle="alert(1)">',
        '<a href="term:x" title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">x</a>',
        "<p>",
        "</li></ul>",
        "<sup>9</sup>",
        '<a href="https://example.org/">ok</a>',
    ]
)
hostile_html = st.lists(st.one_of(hostile_fragments, st.text(max_size=20)), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(hostile_html)
def test_hostile_html_never_survives_sanitising(html):
    assert_harmless(richtext.sanitise(html))


@settings(max_examples=300, deadline=None)
@given(hostile_html)
def test_hostile_html_never_survives_rendering(html):
    rendered = richtext.render(html, url_for_page=lambda page_id: f"/en/page-{page_id}/")
    assert_harmless(rendered.html, allowed_schemes={"http", "https", "mailto", "tel"})


KEPT = [
    "<p>text</p>",
    "<p>10<sup>9</sup>/L</p>",
    "<ul><li>liver</li><li>bones</li></ul>",
    "<ol><li><strong>one</strong></li></ol>",
    "<h3>Sub-heading</h3>",
    "<p><em>a</em> and <sub>2</sub></p>",
    '<p><a href="https://example.org/">site</a></p>',
    '<p><a href="page:4">page</a> and <a href="term:biopsy" title="A sample.">biopsy</a></p>',
    "<p>line<br>break</p>",
]
NOISE = [
    '<span class="x">span</span>',
    '<p style="color:red" lang="en-GB">styled</p>',
    '<font face="Arial">font</font>',
    '<p id="a" dir="ltr" data-x="1">attributes</p>',
    "<!-- comment -->",
]
MEANINGFUL = [
    "<table><tr><td>1</td></tr></table>",
    "<p>10<x-sup>9</x-sup></p>",
    '<img src="chart.png" alt="chart">',
    "<div>block</div>",
    "<p><b>bold</b></p>",
    "<p><s>struck</s></p>",
    '<p onclick="x()">handler</p>',
    "<script>x()</script>",
    '<a href="javascript:x()">js</a>',
    '<a href="/en/relative/">relative</a>',
    '<p><a href="https://e.org/" target="_blank" download="x">download</a></p>',
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(KEPT + NOISE + MEANINGFUL), max_size=8))
def test_input_is_refused_exactly_when_it_holds_something_meaningful_the_site_drops(fragments):
    html = "".join(fragments)
    holds_meaning_to_drop = any(fragment in MEANINGFUL for fragment in fragments)
    assert bool(richtext.inspect(html).losses) == holds_meaning_to_drop


@settings(max_examples=200, deadline=None)
@given(hostile_html)
def test_sanitising_is_stable(html):
    once = richtext.sanitise(html)
    assert richtext.sanitise(once) == once
