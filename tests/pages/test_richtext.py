"""Sanitising and rendering section bodies."""

import re
from html import escape
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from pages import history, richtext
from pages.models import PageRevision, Section
from review import roles
from tests.admin_forms import save_in_admin
from tests.factories import PageFactory, SectionFactory, UserFactory, publish_fixture


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


# What each kept attribute may hold, whatever the input was.
VALID_VALUES = {
    "dir": lambda value: value in {"ltr", "rtl", "auto"},
    "lang": lambda value: re.fullmatch(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*|x(-[a-zA-Z0-9]{1,8})+", value),
    "start": lambda value: re.fullmatch(r"[1-9][0-9]*", value),
    "type": lambda value: value in {"1", "a", "A", "i", "I"},
}


def assert_harmless(html: str, allowed_schemes=richtext.URL_SCHEMES, attributes=richtext.STORED_ATTRIBUTES) -> None:
    for tag, attrs in elements(html):
        assert tag in richtext.STORED_TAGS, tag
        if tag == "span":
            assert attrs.keys() & {"lang", "dir"}, "a span without a language or direction is noise"
        for name, value in attrs.items():
            assert not name.startswith("on"), name
            assert name in attributes.get(tag, set()) or (tag, name, value) == ("a", "class", "term"), (tag, name)
            assert VALID_VALUES.get(name, lambda value: True)(value), (name, value)
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
    word = '<p class="MsoNormal" style="margin:0cm"><span style="font-family:Arial;color:black">Rash</span></p>'
    assert richtext.inspect(word).losses == []
    assert richtext.sanitise(word) == "<p>Rash</p>"


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
        '<p dir="rtl" lang="ar">',
        '<span lang="la" onclick="alert(1)">x</span>',
        '<span style="vertical-align:super">9</span>',
        '<p style="font-weight:bold;color:red">',
        '<span style="display:none">',
        '<span style="font-style:italic;background:url(javascript:alert(1))">',
        '<ol start="3" type="i"><li>x</li></ol>',
        '<ol start="1 onclick=alert(1)" type="javascript:alert(1)">',
        '<p dir="javascript:alert(1)" lang="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">',
        '<abbr title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" onclick="alert(1)">BP</abbr>',
        '<s style="x:expression(alert(1))">x</s>',
        '<li dir="rtl" style="text-decoration:line-through">',
        "<span>",
        '<span dir="rtl">',
        "</span>",
        "<li>",
        "<![foo[x]]>",
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
    assert_harmless(
        rendered.html, allowed_schemes={"http", "https", "mailto", "tel"}, attributes=richtext.PUBLIC_ATTRIBUTES
    )


# Stored exactly as written.
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
    '<p dir="rtl" lang="ar">نص</p>',
    '<h4 lang="cy">Is-bennawd</h4>',
    '<ol start="3" type="i" lang="en-GB"><li dir="ltr">third</li></ol>',
    '<ul dir="rtl"><li lang="ar">كبد</li></ul>',
    '<p>Take it <span lang="la">per os</span>.</p>',
    '<p><span dir="rtl" lang="ar">نص</span> in English</p>',
    '<p><abbr title="blood pressure">BP</abbr></p>',
    "<p><s>struck</s></p>",
]
# Styles whose meaning becomes an element.
CONVERTED = [
    '<p>10<span style="vertical-align:super">9</span></p>',
    '<p style="font-weight:bold">bold</p>',
    '<p><span style="font-style:italic;font-family:Arial">italic</span></p>',
    '<p><span style="text-decoration:line-through">struck</span></p>',
    '<p>H<span style="vertical-align: sub">2</span>O</p>',
    '<p><span style="font-weight:700; font-style:oblique">both</span></p>',
]
NOISE = [
    '<span class="x">span</span>',
    '<p style="color:black;margin:0cm" class="MsoNormal">styled</p>',
    '<font face="Arial">font</font>',
    '<p id="a" data-x="1" spellcheck="false">attributes</p>',
    "<!-- comment -->",
    '<p><span style="font-size:12pt;mso-bidi-font-family:Arial;background:white">sized</span></p>',
    '<p style="font-weight:normal;font-style:normal;vertical-align:baseline">plain</p>',
]
MEANINGFUL = [
    "<table><tr><td>1</td></tr></table>",
    "<p>10<x-sup>9</x-sup></p>",
    '<img src="chart.png" alt="chart">',
    "<div>block</div>",
    "<p><b>bold</b></p>",
    '<p onclick="x()">handler</p>',
    "<script>x()</script>",
    '<a href="javascript:x()">js</a>',
    '<a href="/en/relative/">relative</a>',
    '<p><a href="https://e.org/" target="_blank" download="x">download</a></p>',
    '<p dir="sideways">direction</p>',
    '<p lang="not a language">language</p>',
    '<ol start="0"><li>zero</li></ol>',
    '<ol type="disc"><li>disc</li></ol>',
    '<ul start="2"><li>start</li></ul>',
    '<p><strong lang="cy">bold Welsh</strong></p>',
    '<p><span style="color:red">red</span></p>',
    '<p><span style="text-decoration:underline">underlined</span></p>',
    '<p><span style="display:none">hidden</span></p>',
    '<p style="visibility:hidden">hidden</p>',
    '<p><span style="font-variant:small-caps">caps</span></p>',
    '<p><font color="red">red</font></p>',
    '<p><span title="a note">noted</span></p>',
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(KEPT + CONVERTED + NOISE + MEANINGFUL), max_size=8))
def test_input_is_refused_exactly_when_it_holds_something_meaningful_the_site_drops(fragments):
    html = "".join(fragments)
    holds_meaning_to_drop = any(fragment in MEANINGFUL for fragment in fragments)
    assert bool(richtext.inspect(html).losses) == holds_meaning_to_drop


@settings(max_examples=200, deadline=None)
@given(hostile_html)
def test_sanitising_is_stable(html):
    once = richtext.sanitise(html)
    assert richtext.sanitise(once) == once


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(KEPT), max_size=8))
def test_kept_markup_is_stored_and_shown_exactly(fragments):
    html = "".join(fragments)
    assert richtext.sanitise(html) == html
    rendered = richtext.render(html, url_for_page=lambda page_id: f"/en/page-{page_id}/")
    assert [found for found in elements(rendered.html) if found[0] != "a"] == [
        found for found in elements(html) if found[0] != "a"
    ]


# One declaration (or none) for each aspect of the text, with the element it should become.
weights = st.sampled_from(
    [
        (None, None),
        ("font-weight:bold", "strong"),
        ("font-weight: 700", "strong"),
        ("font-weight:900", "strong"),
        ("font-weight:normal", None),
        ("font-weight:400", None),
    ]
)
slants = st.sampled_from(
    [(None, None), ("font-style:italic", "em"), ("font-style: oblique", "em"), ("font-style:normal", None)]
)
heights = st.sampled_from(
    [(None, None), ("vertical-align:super", "sup"), ("vertical-align: sub", "sub"), ("vertical-align:baseline", None)]
)
lines = st.sampled_from(
    [
        (None, None),
        ("text-decoration:line-through", "s"),
        ("text-decoration-line: line-through", "s"),
        ("text-decoration:none", None),
    ]
)
READ_AS = {"strong": ("**", "**"), "em": ("*", "*"), "s": ("~~", "~~"), "sup": ("^{", "}"), "sub": ("_{", "}")}
noise_declarations = st.lists(
    st.sampled_from(
        [
            "font-family:Arial",
            'font-family:"Times New Roman",serif',
            "font-size:11pt",
            "line-height:115%",
            "margin:0cm",
            "margin-bottom:.0001pt",
            "padding-left:4px",
            "text-align:justify",
            "text-indent:1em",
            "letter-spacing:1px",
            "white-space:pre-wrap",
            "mso-fareast-language:EN-GB",
            "color:windowtext",
            "color:#000000",
            "color: #FFF",
            "color:black",
            "color:auto",
            "background:white",
            "background-color:transparent",
            "background-color: inherit",
        ]
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(weights, slants, heights, lines),
    noise_declarations,
    st.randoms(use_true_random=False),
    st.sampled_from(["span", "p", "li", "a", "h3"]),
    st.text(alphabet="abcxyz 123", min_size=1).filter(str.strip),
)
def test_meaningful_inline_styles_become_their_elements_and_noise_goes(meaningful, noise, random, tag, text):
    declarations = [declaration for declaration, _element in meaningful if declaration] + noise
    random.shuffle(declarations)
    expected = {element for _declaration, element in meaningful if element}
    opening = {"a": '<a href="https://example.org/"', "li": "<ul><li"}.get(tag, f"<{tag}")
    closing = {"li": "</li></ul>"}.get(tag, f"</{tag}>")
    styled = f'{opening} style="{escape("; ".join(declarations))}">{escape(text)}{closing}'
    html = f"<p>Before {styled}</p>" if tag == "span" else f"<p>Before</p>{styled}"
    assert richtext.inspect(html).losses == []
    stored = richtext.sanitise(html)
    assert {found for found, _attrs in elements(stored)} >= expected
    assert {found for found, _attrs in elements(stored)} - expected <= {"p", "ul", "li", "a", "h3"}
    marks = [READ_AS[element] for element in richtext.STYLE_ELEMENTS if element in expected]
    reading = "".join(mark for mark, _end in marks) + text + "".join(end for _mark, end in reversed(marks))
    assert " ".join(reading.split()) in " ".join(richtext.readable(stored, label_for_page=str).split())
    assert richtext.sanitise(stored) == stored


def test_text_direction_and_language_are_stored_on_blocks_lists_and_spans():
    for html in (
        '<p dir="rtl" lang="ar">نص عربي</p>',
        '<h3 lang="cy">Symptomau</h3>',
        '<h4 dir="ltr">Dose</h4>',
        '<ul lang="cy"><li dir="rtl">un</li></ul>',
        '<ol dir="rtl"><li lang="ar">واحد</li></ol>',
        '<p>Take it <span lang="la">per os</span>.</p>',
    ):
        assert richtext.inspect(html).losses == [], html
        assert richtext.sanitise(html) == html


def test_a_span_is_kept_only_when_it_gives_a_language_or_direction():
    assert richtext.sanitise('<p><span class="x">a</span> <span lang="la">b</span></p>') == (
        '<p>a <span lang="la">b</span></p>'
    )
    assert richtext.sanitise('<p><span lang="cy"><span id="x">a</span></span></p>') == '<p><span lang="cy">a</span></p>'


def test_list_start_numbering_abbreviations_and_strike_through_are_stored():
    html = '<ol start="4" type="a"><li>fourth</li></ol><p><abbr title="blood pressure">BP</abbr> <s>old</s></p>'
    assert richtext.inspect(html).losses == []
    assert richtext.sanitise(html) == html


def test_a_direction_or_language_the_site_cannot_keep_is_named():
    losses = richtext.inspect(
        '<p dir="sideways">x</p><p lang="not a language">y</p><ol start="0" type="disc"><li>z</li></ol>'
        '<p><strong lang="cy">w</strong></p>'
    ).losses
    assert losses == [
        'the dir="sideways" attribute on <p>',
        'the lang="not a language" attribute on <p>',
        'the start="0" attribute on <ol>',
        'the type="disc" attribute on <ol>',
        'the lang="cy" attribute on <strong>',
    ]
    assert richtext.sanitise('<p dir="sideways" lang="cy">x</p>') == '<p lang="cy">x</p>'


def test_pasted_styles_that_carry_meaning_become_elements():
    assert richtext.sanitise('<p>10<span style="vertical-align:super">9</span>/L</p>') == "<p>10<sup>9</sup>/L</p>"
    assert richtext.sanitise('<p style="font-weight:bold">x</p>') == "<p><strong>x</strong></p>"
    assert richtext.sanitise('<p>H<span style="vertical-align:sub">2</span>O</p>') == "<p>H<sub>2</sub>O</p>"
    assert richtext.sanitise('<p><span style="font-style:italic">E. coli</span></p>') == "<p><em>E. coli</em></p>"
    assert richtext.sanitise('<p><span style="text-decoration:line-through">5 mg</span></p>') == "<p><s>5 mg</s></p>"
    assert richtext.sanitise('<p><span style="font-weight:700;font-style:italic">x</span></p>') == (
        "<p><strong><em>x</em></strong></p>"
    )
    assert richtext.inspect('<p>10<span style="vertical-align:super">9</span>/L</p>').losses == []


def test_a_styled_list_item_or_block_keeps_its_blocks_apart():
    assert richtext.sanitise('<ul style="font-weight:bold"><li>a</li><li>b</li></ul>') == (
        "<ul><li><strong>a</strong></li><li><strong>b</strong></li></ul>"
    )
    assert richtext.sanitise('<li style="font-style:italic"><p>a</p><p>b</p></li>') == (
        "<li><p><em>a</em></p><p><em>b</em></p></li>"
    )
    # The second paragraph ends the first, so it is not bold.
    assert richtext.sanitise('<p style="font-weight:bold">a<p>b</p>') == "<p><strong>a</strong></p><p>b</p>"


def test_styles_whose_meaning_would_be_lost_are_named():
    losses = richtext.inspect(
        '<p><span style="color:red;font-family:Arial">a</span> <span style="text-decoration: underline">b</span>'
        '<span style="display:none">c</span></p>'
    ).losses
    assert losses == [
        'the style "color: red" on <span> (colour or other styling would be lost: use bold, italic or a heading)',
        'the style "text-decoration: underline" on <span> '
        "(colour or other styling would be lost: use bold, italic or a heading)",
        'the style "display: none" on <span> (it hides text that the site would show)',
    ]


def test_inspect_and_sanitise_read_marked_sections_as_browsers_do():
    assert richtext.inspect("<p><![if !supportLists]>1.<![endif]> One</p><![foo[x]]>").losses == []
    assert richtext.sanitise("<p><![if !supportLists]>1.<![endif]> One</p><![foo[x]]>") == "<p>1. One</p>"


def test_render_keeps_language_direction_list_start_abbreviations_and_strike_through():
    stored = (
        '<p dir="rtl" lang="ar">نص</p><ol start="3" type="i" lang="cy"><li dir="ltr">tri</li></ol>'
        '<p><span lang="la">per os</span>, <abbr title="blood pressure">BP</abbr> and <s>5 mg</s></p>'
    )
    assert richtext.render(stored, url_for_page=lambda page_id: None).html == stored


def test_render_drops_what_the_stored_form_does_not_allow():
    rendered = richtext.render(
        '<p dir="sideways" lang="cy" style="color:red" onclick="x()">a<span>b</span></p>',
        url_for_page=lambda page_id: None,
    )
    assert rendered.html == '<p lang="cy">ab</p>'


def test_readable_spells_out_language_direction_numbering_abbreviations_and_strike_through():
    stored = (
        '<p dir="rtl" lang="ar">نص</p><h3 lang="cy">Symptomau</h3>'
        '<ol start="3"><li>three</li><li lang="cy">four</li></ol>'
        '<ol type="a"><li>one</li><li>two</li></ol><ol start="4" type="I"><li>four</li></ol>'
        '<ul dir="rtl"><li>item</li></ul>'
        '<p>Take it <span lang="la">per os</span>; <abbr title="blood pressure">BP</abbr> and <s>5 mg</s></p>'
    )
    assert richtext.readable(stored, label_for_page=str) == (
        "{lang=ar dir=rtl} نص\n\n"
        "### {lang=cy} Symptomau\n"
        "3. three\n"
        "4. {lang=cy} four\n"
        "a. one\n"
        "b. two\n"
        "IV. four\n"
        "{dir=rtl}\n"
        "• item\n\n"
        "Take it {lang=la: per os}; BP (abbreviation: blood pressure) and ~~5 mg~~"
    )


@pytest.mark.django_db
def test_a_paragraphs_direction_and_language_reach_the_public_page(client):
    page = PageFactory(title_en="Glucagonoma")
    with history.revision(user=None, comment="x"):
        Section.objects.create(page=page, heading_en="In Arabic", body_en='<p dir="rtl" lang="ar">طفح جلدي.</p>')
    assert Section.objects.get(page=page).body_en == '<p dir="rtl" lang="ar">طفح جلدي.</p>'
    publish_fixture(page, "en")
    html = client.get(f"/en/{page.path}/").content.decode()
    assert '<p dir="rtl" lang="ar">طفح جلدي.</p>' in html


@pytest.mark.django_db
def test_a_pasted_superscript_style_is_stored_as_a_superscript():
    section = SectionFactory(body_en='<p>10<span style="vertical-align:super">9</span> cells per litre</p>')
    assert Section.objects.get(pk=section.pk).body_en == "<p>10<sup>9</sup> cells per litre</p>"


@pytest.mark.django_db
def test_the_body_field_refuses_a_colour_and_names_it():
    field = Section._meta.get_field("body_en")
    with pytest.raises(ValidationError) as error:
        field.clean('<p><span style="color:red">x</span></p>', SectionFactory.build(page=PageFactory()))
    assert [str(message) for message in error.value.messages] == [
        'This would be removed, so it cannot be saved: the style "color: red" on <span> '
        "(colour or other styling would be lost: use bold, italic or a heading)."
    ]


@pytest.mark.django_db
def test_the_body_field_keeps_converted_styles_and_direction():
    field = Section._meta.get_field("body_en")
    cleaned = field.clean(
        '<p dir="rtl" lang="ar">10<span style="vertical-align:super">9</span></p>',
        SectionFactory.build(page=PageFactory()),
    )
    assert cleaned == '<p dir="rtl" lang="ar">10<sup>9</sup></p>'


@pytest.mark.django_db
def test_the_body_field_refuses_a_body_over_the_size_limit_and_says_so():
    field = Section._meta.get_field("body_en")
    section = SectionFactory.build(page=PageFactory())
    at_the_limit = "<p>" + "a" * (richtext.MAX_BODY_CHARACTERS - 7) + "</p>"
    assert field.clean(at_the_limit, section) == at_the_limit
    with pytest.raises(ValidationError) as error:
        field.clean(at_the_limit + "b", section)
    [message] = error.value.messages
    assert "100,000" in message
    assert "100,001" in message


@pytest.mark.django_db
def test_a_change_of_direction_shows_in_the_review_comparison(client):
    client.force_login(UserFactory(username="eleri", roles=[roles.EDITOR]))
    page = PageFactory(slug="rash")
    SectionFactory(page=page, heading_en="Rash", body_en='<p lang="ar">طفح</p>')
    before = PageRevision.objects.filter(page=page).order_by("-number").first().number
    save_in_admin(client, page, **{"sections-0-body_en": '<p dir="rtl" lang="ar">طفح</p>'})
    assert Section.objects.get(page=page).body_en == '<p dir="rtl" lang="ar">طفح</p>'
    html = client.get(f"/admin/pages/page/{page.pk}/history/compare/", {"old": before, "new": before + 1}).content
    assert "dir=rtl" in html.decode()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("<p>Rash.</p><p></p><p>Weight loss.</p>", "<p>Rash.</p><p>Weight loss.</p>"),
        ("<p>Rash.</p><p><br></p><p>\xa0</p><p> </p>", "<p>Rash.</p>"),
        ("<h3> </h3><p><strong>\xa0</strong><br></p><p>Rash.<br></p>", "<p>Rash.<br></p>"),
        # An empty item keeps its place, so that the numbers a reviewer signed off stay.
        (
            "<ol><li>Stop taking it</li><li></li><li>Call 999</li></ol>",
            "<ol><li>Stop taking it</li><li></li><li>Call 999</li></ol>",
        ),
    ],
)
def test_empty_paragraphs_and_headings_are_not_stored(typed, stored):
    assert richtext.sanitise(typed) == stored


def test_a_long_run_of_spaces_is_cleaned_at_once():
    assert richtext.sanitise("<p>" + "\xa0" * 5000 + "</p><p>Rash.</p>") == "<p>Rash.</p>"


EMPTY = re.compile(r"<(p|h3|h4)(?:\s[^>]*)?>(?:\s|<br>)*</\1>")


@given(st.lists(st.sampled_from([*KEPT, "<p></p>", "<p><br></p>", "<li> </li>", "<ul></ul>", "\xa0"]), max_size=10))
def test_nothing_empty_is_ever_stored(fragments):
    html = richtext.sanitise("".join(fragments))
    assert not EMPTY.search(html)
    assert richtext.sanitise(html) == html
