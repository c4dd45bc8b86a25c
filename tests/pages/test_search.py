"""The public search finds live wording in the reader's language only, best match
first, with the words found highlighted and everything else escaped."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from pages.models import Page
from pages.publishing import withdraw
from tests.factories import PageFactory, SectionFactory, edited, publish_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    with edited():
        octreotide = PageFactory(slug="octreotide", title_en="Octreotide", title_cy="Octreotid",
                                 summary_en="A medicine for NETs.", summary_cy="Meddyginiaeth i TNEau.")  # fmt: skip
        SectionFactory(page=octreotide, heading_en="How it works", heading_cy="Sut mae'n gweithio",
                       body_en="<p>It slows hormone release from tumours.</p>",
                       body_cy="<p>Mae'n arafu rhyddhau hormonau o diwmorau.</p>")  # fmt: skip
        glucagonoma = PageFactory(slug="glucagonoma", title_en="Glucagonoma", summary_en="A rare tumour.")
        SectionFactory(page=glucagonoma, heading_en="Treatment",
                       body_en="<p>Surgery, or octreotide injections when 2 &lt; 3 tumours remain.</p>")  # fmt: skip
        recalled = PageFactory(slug="lanreotide-old", title_en="Lanreotide (old advice)")
        SectionFactory(page=recalled, heading_en="Dose", body_en="<p>An octreotide alternative.</p>")
    publish_fixture(octreotide, "en", "cy")
    publish_fixture(glucagonoma, "en")
    publish_fixture(recalled, "en")
    withdraw(page=recalled, reason="Superseded.")
    return octreotide, glucagonoma


def results(client, language, query):
    response = client.get(f"/{language}/search/", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    main = html.split('<main id="main" tabindex="-1">')[1].split("</main>")[0]
    return [title for title in re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', main)], main


def test_best_match_first_with_the_words_highlighted(client, site):
    titles, html = results(client, "en", "octreotide")
    assert titles == ["Octreotide", "Glucagonoma"]  # in the title beats in the text; withdrawn pages never
    assert "<mark>octreotide</mark>" in html.lower()
    assert "2 &lt; 3" in html


def test_only_live_wording_is_found(client, site):
    octreotide, _glucagonoma = site
    with edited():
        section = octreotide.sections.get()
        section.body_en = "<p>Unapproved wording about pasireotide.</p>"
        section.save()
    assert results(client, "en", "pasireotide")[0] == []
    assert results(client, "en", "lanreotide")[0] == []  # withdrawn


def test_results_are_in_the_readers_language(client, site):
    assert results(client, "cy", "hormonau")[0] == ["Octreotid"]
    assert results(client, "cy", "glucagonoma")[0] == []  # live in English only
    assert results(client, "en", "hormonau")[0] == []


def test_a_search_for_markup_is_shown_as_text(client, site):
    _titles, html = results(client, "en", '<script>alert("x")</script>')
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_excerpts_are_escaped_and_only_the_words_found_are_marked(client):
    with edited():
        page = PageFactory(slug="somatostatin", title_en="Somatostatin", summary_en="A hormone.")
        # Text that looks like markup, and the control characters the search marks its finds with.
        SectionFactory(page=page, heading_en="Note", body_en="<p>Type &lt;img src=x onerror=alert(1)&gt; "
                       "then \x02somatostatin\x03 analogues.</p>")  # fmt: skip
    publish_fixture(page, "en")
    _titles, html = results(client, "en", "analogues")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<mark>") == html.count("</mark>") == 1
    assert "<mark>analogues</mark>" in html


def test_an_empty_search_shows_the_box_and_no_results(client, site):
    titles, html = results(client, "en", "   ")
    assert titles == [] and "found for" not in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stemming is PostgreSQL's")
def test_english_words_are_found_by_their_stem(client, site):
    assert results(client, "en", "tumour")[0] == ["Glucagonoma", "Octreotide"]


def test_search_is_not_a_page_address(site):
    page = Page(slug="search", title_en="Search")
    with pytest.raises(ValidationError, match="taken by the site itself"):
        page.full_clean()
