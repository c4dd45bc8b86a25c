"""The public site: per language, with fallback, 404s and a constant query count."""

import re

import pytest
from django.utils import translation

from tests.factories import PageFactory, SectionFactory, publish_fixture
from tests.public_pages import language_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def glucagonoma():
    parent = PageFactory(slug="nets", title_en="Neuroendocrine cancer", title_cy="Canser niwroendocrin")
    publish_fixture(parent, "en", "cy")
    page = PageFactory(
        slug="glucagonoma",
        parent=parent,
        title_en="Glucagonoma",
        title_cy="Glwcagonoma",
        title_ar="ورم الجلوكاجون",
        summary_en="A rare tumour.",
        summary_cy="Tiwmor prin.",
    )
    SectionFactory(
        page=page,
        heading_en="Symptoms",
        heading_cy="Symptomau",
        heading_ar="الأعراض",
        body_en="<p>A rash.</p>",
        body_cy="<p>Brech.</p>",
        body_ar="<p>طفح جلدي.</p>",
    )
    SectionFactory(
        page=page,
        heading_en="Treatment",
        heading_cy="Triniaeth",
        body_en="<p>Surgery.</p>",
        body_cy="<p>Llawdriniaeth.</p>",
    )
    publish_fixture(page, "en", "cy", "ar")
    return page


def attribute(html: str, tag: str, name: str) -> str:
    return re.search(rf"<{tag}\b[^>]*\b{name}=\"([^\"]*)\"", html).group(1)


def test_english_page_shows_title_sections_and_review_dates(client, glucagonoma):
    response = client.get("/en/nets/glucagonoma/")
    html = response.content.decode()
    assert response.status_code == 200
    assert attribute(html, "html", "lang") == "en"
    assert attribute(html, "html", "dir") == "ltr"
    assert "<h1>Glucagonoma</h1>" in html
    assert '<a href="#symptoms">Symptoms</a>' in html
    assert '<h2 id="symptoms">Symptoms</h2>' in html
    assert 'Last reviewed: <time datetime="2025-03-11">11 March 2025</time>' in html
    assert 'Next review due: <time datetime="2028-03-11">11 March 2028</time>' in html
    assert '<a href="/en/nets/">Neuroendocrine cancer</a>' in html


def test_welsh_page_is_in_welsh_with_welsh_dates(client, glucagonoma):
    html = client.get("/cy/nets/glucagonoma/").content.decode()
    assert attribute(html, "html", "lang") == "cy"
    assert "<h1>Glwcagonoma</h1>" in html
    assert "<p>Llawdriniaeth.</p>" in html
    assert "Surgery" not in html
    assert 'Adolygwyd ddiwethaf: <time datetime="2025-03-11">11 Mawrth 2025</time>' in html
    assert '<a href="/cy/nets/">Canser niwroendocrin</a>' in html


def test_arabic_page_is_right_to_left_and_marks_untranslated_sections(client, glucagonoma):
    html = client.get("/ar/nets/glucagonoma/").content.decode()
    assert attribute(html, "html", "dir") == "rtl"
    assert '<article class="page" lang="ar" dir="rtl">' in html
    assert '<section aria-labelledby="treatment" lang="en" dir="ltr" class="untranslated">' in html
    assert "هذا القسم معروض باللغة الإنجليزيّة." in html


def test_language_switcher_lists_only_live_languages(client, glucagonoma):
    parent_html = client.get("/en/nets/").content.decode()
    switcher = re.search(r'<nav class="languages".*?</nav>', parent_html, re.S).group(0)
    assert 'hreflang="cy"' in switcher
    assert 'hreflang="ar"' not in switcher


def test_welsh_page_falls_back_to_english_with_notice(client):
    page = PageFactory(slug="tests", title_en="Tests")
    SectionFactory(page=page, heading_en="Blood tests", body_en="<p>Blood.</p>")
    publish_fixture(page, "en")
    response = client.get("/cy/tests/")
    html = response.content.decode()
    assert response.status_code == 200
    assert attribute(html, "html", "lang") == "cy"
    assert '<h1 lang="en" dir="ltr">Tests</h1>' in html
    assert "Nid yw'r dudalen hon ar gael yn Gymraeg eto. Fe'i dangosir yn Saesneg." in html  # mutated, not “yn Cymraeg”
    assert '<link rel="canonical" href="http://127.0.0.1:8000/en/tests/">' in html
    assert '<link rel="alternate" hreflang="en" href="http://127.0.0.1:8000/en/tests/">' in html
    assert 'hreflang="cy"' not in html.split("</head>")[0]


def test_native_page_is_its_own_canonical_with_alternates(client, glucagonoma):
    head = client.get("/cy/nets/glucagonoma/").content.decode().split("</head>")[0]
    assert '<link rel="canonical" href="http://127.0.0.1:8000/cy/nets/glucagonoma/">' in head
    for code in ("en", "cy", "ar", "x-default"):
        assert f'hreflang="{code}"' in head


@pytest.mark.parametrize(
    ("url", "language", "heading"),
    [
        ("/en/no-such-page/", "en", "Page not found"),
        ("/cy/no-such-page/", "cy", "Heb ddod o hyd i'r dudalen"),
        ("/ar/nets/glucagonoma/missing/", "ar", "الصفحة غير موجودة"),
    ],
)
def test_unknown_path_is_a_404_in_the_visitors_language(client, glucagonoma, url, language, heading):
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert attribute(html, "html", "lang") == language
    assert f"<h1>{heading}</h1>" in html


def test_unknown_language_is_a_404_in_the_browsers_language(client, glucagonoma):
    response = client.get("/xx/nets/glucagonoma/", HTTP_ACCEPT_LANGUAGE="cy")
    assert response.status_code == 404
    assert attribute(response.content.decode(), "html", "lang") == "cy"


def test_page_never_published_is_a_404(client):
    PageFactory(slug="draft", title_en="Draft")
    assert client.get("/en/draft/").status_code == 404


def test_home_lists_top_level_topics_in_the_language(client, glucagonoma):
    html = client.get("/cy/").content.decode()
    assert '<a href="/cy/nets/">Canser niwroendocrin</a>' in html
    assert "Glwcagonoma" not in html  # only top-level topics


def test_root_redirects_to_the_browsers_language(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="cy,en;q=0.5")
    assert response.status_code == 302
    assert response["Location"] == "/cy/"


@pytest.mark.parametrize("sections", [3, 30])
def test_public_page_costs_one_query_whatever_its_size(client, django_assert_num_queries, sections):
    page = PageFactory(slug="big", title_en="Big", title_cy="Mawr")
    for number in range(sections):
        SectionFactory(page=page, heading_en=f"Part {number}", body_en=f"<p>Text {number}.</p>")
    publish_fixture(page, "en", "cy")
    with django_assert_num_queries(1):
        response = client.get("/cy/big/")
    assert response.content.decode().count("<section ") == sections


def test_home_costs_one_query(client, glucagonoma, django_assert_num_queries):
    with django_assert_num_queries(1):
        client.get("/en/")


def test_public_pages_answer_only_safe_methods(client, glucagonoma):
    assert client.post("/en/nets/glucagonoma/").status_code == 405


def test_a_page_live_only_in_a_language_that_is_neither_the_readers_nor_the_source_is_not_shown(client):
    page = PageFactory(slug="welsh-only", title_en="Welsh only", title_cy="Cymraeg yn unig")
    SectionFactory(page=page, heading_en="Intro", heading_cy="Cyflwyniad", body_cy="<p>Testun Cymraeg.</p>")
    publish_fixture(page, "cy")
    assert client.get("/cy/welsh-only/").status_code == 200
    for language in ("ar", "en"):
        response = client.get(f"/{language}/welsh-only/")
        assert response.status_code == 404 and "Testun Cymraeg" not in response.content.decode()


def test_every_page_has_the_sites_icon_and_favicon_ico_leads_to_it(client, glucagonoma):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
    assert 'rel="icon"' in client.get("/cy/nets/glucagonoma/").content.decode()
    assert 'rel="icon"' in client.get("/admin/login/").content.decode()


def test_the_home_and_search_pages_offer_every_language_too(client, glucagonoma):
    home = client.get("/cy/").content.decode()
    switcher = home[home.index('<nav class="languages"') : home.index("</nav>", home.index('<nav class="languages"'))]
    assert 'href="/en/"' in switcher and 'href="/ar/"' in switcher and 'href="/cy/" lang="cy"' in switcher
    assert 'aria-current="page">Cymraeg' in switcher
    found = client.get("/cy/search/", {"q": "glwcagonoma"}).content.decode()
    assert 'href="/en/search/?q=glwcagonoma"' in found and 'href="/ar/search/?q=glwcagonoma"' in found


@pytest.fixture
def english_only():
    """A page live in English only, under a topic live in English and Welsh, with a related
    page live in English and Welsh and another in English only."""
    parent = PageFactory(slug="nets", title_en="Neuroendocrine cancer", title_cy="Canser niwroendocrin")
    publish_fixture(parent, "en", "cy")
    treatment = PageFactory(slug="treatment", title_en="Treatment", title_cy="Triniaeth")
    publish_fixture(treatment, "en", "cy")
    survival = PageFactory(slug="survival", title_en="Survival")
    publish_fixture(survival, "en")
    page = PageFactory(slug="tests", parent=parent, title_en="Tests", summary_en="How a NET is found.")
    page.related.set([treatment, survival])
    SectionFactory(page=page, heading_en="Blood tests", body_en="<p>A blood sample.</p>")
    publish_fixture(page, "en")
    return page


@pytest.mark.parametrize(("language", "direction"), [("cy", "ltr"), ("ar", "rtl")])
def test_a_fallback_page_is_marked_english_only_where_its_wording_is(client, english_only, language, direction):
    html = client.get(f"/{language}/nets/tests/").content.decode()
    for wording in ("How a NET is found.", "Blood tests", "A blood sample.", "Survival"):
        assert language_of(html, wording) == ("en", "ltr"), wording
    # The site's own words, around the English wording, are in the reader's language.
    with translation.override(language):
        site_words = [translation.gettext(words) for words in
                      ("On this page", "Last reviewed:", "Next review due:", "Related pages")]  # fmt: skip
        reviewed_by = translation.gettext("Clinically reviewed by %(name)s.").split("%(name)s")[0].strip()
    for words in [*site_words, reviewed_by]:
        assert language_of(html, words) == (language, direction), words
    assert '<h1 lang="en" dir="ltr">Tests</h1>' in html
    assert '<section aria-labelledby="blood-tests" lang="en" dir="ltr">' in html


def test_a_fallback_pages_links_name_pages_in_the_readers_language_where_they_are_live_in_it(client, english_only):
    html = client.get("/cy/nets/tests/").content.decode()
    breadcrumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S).group(0)
    assert '<li><a href="/cy/nets/">Canser niwroendocrin</a></li>' in breadcrumbs
    assert '<li aria-current="page"><bdi lang="en" dir="ltr">Tests</bdi></li>' in breadcrumbs
    related = re.search(r'<nav class="related".*?</nav>', html, re.S).group(0)
    assert '<a href="/cy/treatment/">Triniaeth</a>' in related
    assert '<a href="/cy/survival/" lang="en" dir="ltr">Survival</a>' in related


def test_an_arabic_fallback_pages_english_crumbs_are_isolated_in_the_right_to_left_list(client, english_only):
    html = client.get("/ar/nets/tests/").content.decode()
    breadcrumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S).group(0)
    # The list items run right to left, with their separators; each English title in its own direction.
    assert "<li>" in breadcrumbs and "<li " not in breadcrumbs.replace('<li aria-current="page">', "")
    assert '<a href="/ar/nets/" lang="en" dir="ltr">Neuroendocrine cancer</a>' in breadcrumbs
    assert '<li aria-current="page"><bdi lang="en" dir="ltr">Tests</bdi></li>' in breadcrumbs


def test_a_parent_going_live_in_welsh_later_is_named_in_welsh_on_the_fallback(client, django_assert_num_queries):
    parent = PageFactory(slug="nets", title_en="Neuroendocrine cancer", title_cy="Canser niwroendocrin")
    publish_fixture(parent, "en")
    page = PageFactory(slug="tests", parent=parent, title_en="Tests")
    SectionFactory(page=page, heading_en="Blood tests", body_en="<p>A blood sample.</p>")
    publish_fixture(page, "en")
    assert (
        '<a href="/cy/nets/" lang="en" dir="ltr">Neuroendocrine cancer</a>'
        in client.get("/cy/nets/tests/").content.decode()
    )
    publish_fixture(parent, "cy")
    with django_assert_num_queries(1):  # stored again when the parent went live in Welsh
        html = client.get("/cy/nets/tests/").content.decode()
    assert '<li><a href="/cy/nets/">Canser niwroendocrin</a></li>' in html


@pytest.fixture
def glossary():
    page = PageFactory(slug="biopsy", title_en="Biopsy")
    SectionFactory(page=page, heading_en="Tests", body_en='<p>You may have a <a href="term:biopsy" title="Taking a '
                   'small sample of tissue.">biopsy</a> or a <a href="term:scan" title="A picture of the inside of '
                   'the body.">scan</a>.</p>')  # fmt: skip
    SectionFactory(page=page, heading_en="Results", body_en='<p>The <a href="term:biopsy" title="Taking a small '
                   'sample of tissue.">biopsy</a> results take a week.</p>')  # fmt: skip
    publish_fixture(page, "en")
    return page


def element_with_id(html: str, id: str) -> str:
    """The start tag of the only element with ``id``, and what follows it up to the next tag."""
    (found,) = re.findall(rf'<[a-z]+\b[^>]*\bid="{re.escape(id)}"[^>]*>[^<]*', html)
    return found


def test_each_use_of_a_glossary_term_is_described_by_its_definition(client, glossary, django_assert_num_queries):
    with django_assert_num_queries(1):
        html = client.get("/en/biopsy/").content.decode()
    uses = re.findall(r'<a class="term" href="#([^"]+)" aria-describedby="([^"]+)"[^>]*>([^<]+)</a>', html)
    assert [(term, text) for term, _definition, text in uses] == [
        ("term-biopsy", "biopsy"), ("term-scan", "scan"), ("term-biopsy", "biopsy")
    ]  # fmt: skip
    assert element_with_id(html, uses[0][1]).endswith(">Taking a small sample of tissue.")
    assert element_with_id(html, uses[1][1]).endswith(">A picture of the inside of the body.")
    assert uses[2][1] == uses[0][1]
    assert len(re.findall(r'<a class="term"', html)) == 3


def test_a_glossary_entry_leads_back_to_where_the_term_is_first_used(client, glossary):
    html = client.get("/en/biopsy/").content.decode()
    entries = re.findall(r'<dt id="([^"]+)">.*?<a class="back" href="#([^"]+)" aria-describedby="([^"]+)">([^<]+)</a>',
                         html, re.S)  # fmt: skip
    assert [(term, described_by, text) for term, _back, described_by, text in entries] == [
        ("term-biopsy", "term-biopsy", "Back to the text"), ("term-scan", "term-scan", "Back to the text")
    ]  # fmt: skip
    first_uses = [element_with_id(html, back) for _term, back, _described_by, _text in entries]
    assert first_uses[0].startswith('<a class="term" href="#term-biopsy"') and first_uses[0].endswith(">biopsy")
    assert first_uses[1].startswith('<a class="term" href="#term-scan"') and first_uses[1].endswith(">scan")
    assert html.index(first_uses[0]) < html.index("The <a class=")  # the first of its two uses
