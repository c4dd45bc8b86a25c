"""The public search finds live wording in the reader's language only, best match
first, with the words found highlighted and everything else escaped."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from pages.models import Page
from pages.publishing import withdraw
from tests.factories import PageFactory, SectionFactory, edited, publish_fixture
from tests.public_pages import language_of

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


def test_a_new_version_is_found_by_its_new_words_only(client, site):
    octreotide, _glucagonoma = site
    with edited():
        octreotide.title_en = "Sandostatin"
        octreotide.save()
    publish_fixture(octreotide, "en")
    assert results(client, "en", "Sandostatin")[0] == ["Sandostatin"]
    assert "Sandostatin" not in results(client, "en", "Octreotide")[0]  # the old title is no longer in its document


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored document is PostgreSQL's")
def test_the_search_reads_the_stored_document_through_its_index(client, site):
    from django.test.utils import CaptureQueriesContext

    from pages import search

    with CaptureQueriesContext(connection) as queries:
        assert search.find("octreotide", "en").results
    (sql,) = [query["sql"] for query in queries.captured_queries if "@@" in query["sql"]]
    where = sql.split(" WHERE ", 1)[1]
    assert "search_document" in where and "to_tsvector" not in where  # nothing computed per row
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # with ten rows the planner would read them all
        cursor.execute(
            "EXPLAIN SELECT id FROM pages_livesnapshot WHERE search_document @@ websearch_to_tsquery('english', %s)",
            ["octreotide"],
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "pages_livesnapshot_search_document_gin" in plan, plan


def test_a_visitor_searching_too_often_is_asked_to_wait_in_their_language(client, site, settings):
    settings.SEARCH_RATE_LIMIT, settings.SEARCH_RATE_SECONDS = 3, 60
    for _ in range(3):
        assert client.get("/cy/search/", {"q": "octreotid"}).status_code == 200
    assert client.get("/cy/search/").status_code == 200  # the empty search box costs nothing, counts nothing
    refused = client.get("/cy/search/", {"q": "octreotid"})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    html = refused.content.decode()
    assert '<html lang="cy"' in html and "Gormod o chwiliadau" in html and "Octreotid" not in html
    other = client.get("/en/search/", {"q": "octreotide"}, REMOTE_ADDR="192.0.2.7")  # someone else
    assert other.status_code == 200


def test_behind_a_proxy_each_visitor_is_counted_by_their_own_address(client, site, settings):
    settings.SEARCH_RATE_LIMIT, settings.TRUSTED_PROXY_COUNT = 1, 1
    first = {"HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    assert client.get("/en/search/", {"q": "octreotide"}, **first).status_code == 200
    assert client.get("/en/search/", {"q": "octreotide"}, **first).status_code == 429
    second = {"HTTP_X_FORWARDED_FOR": "198.51.100.2"}
    assert client.get("/en/search/", {"q": "octreotide"}, **second).status_code == 200


@pytest.fixture
def many(settings):
    """Twenty-three live pages that all hold the word "somatostatin", each ranked differently
    (the word once in the title for the first three; in the text, n times, for the others)."""
    settings.SEARCH_RATE_LIMIT = 0
    pages = []
    with edited():
        for n in range(23):
            title = f"Somatostatin {n}" if n < 3 else f"Page {n}"
            page = PageFactory(slug=f"page-{n}", title_en=title)
            SectionFactory(page=page, heading_en="About", body_en=f"<p>{'somatostatin ' * (n % 7 + 1)}word{n}</p>")
            pages.append(page)
    for page in pages:
        publish_fixture(page, "en")
    return pages


def all_results(client, query) -> list[str]:
    titles, url = [], f"/en/search/?q={query}"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        titles += re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', html)
        following = re.search(r'<a href="(\?[^"]+)" rel="next">', html)
        url = f"/en/search/{following.group(1).replace('&amp;', '&')}" if following else None
    return titles


def test_results_come_ten_a_page_each_found_once_best_first(client, many):
    first = client.get("/en/search/", {"q": "somatostatin"}).content.decode()
    assert "23 pages found for “somatostatin”. Page 1 of 3." in first
    assert 'rel="prev"' not in first and 'href="?q=somatostatin&amp;page=2" rel="next"' in first
    titles = all_results(client, "somatostatin")
    assert len(titles) == len(set(titles)) == 23
    assert set(titles[:3]) == {"Somatostatin 0", "Somatostatin 1", "Somatostatin 2"}  # the title weighs most
    last = client.get("/en/search/", {"q": "somatostatin", "page": "3"}).content.decode()
    assert 'href="?q=somatostatin&amp;page=2" rel="prev"' in last and 'rel="next"' not in last
    assert len(re.findall("<h2><a ", last)) == 3


@pytest.mark.parametrize("page", ["0", "-1", "x", "٣", "1e3", "99999999999999999999"])
def test_a_page_number_that_is_not_one_shows_the_first(client, many, page):
    response = client.get("/en/search/", {"q": "somatostatin", "page": page})
    assert response.status_code == 200
    assert "Page 1 of 3." in response.content.decode()


def test_a_page_past_the_last_goes_to_the_last(client, many):
    response = client.get("/en/search/", {"q": "somatostatin", "page": "9"})
    assert response.status_code == 302
    assert response["Location"] == "/en/search/?q=somatostatin&page=3"


def test_a_word_on_more_pages_than_are_ranked_says_so(client, many, settings):
    settings.SEARCH_CANDIDATES = 15
    html = client.get("/en/search/", {"q": "somatostatin"}).content.decode()
    assert "More than 15 pages found for “somatostatin”: the best are shown first. Page 1 of 2." in html
    assert len(all_results(client, "somatostatin")) == 15
    settings.SEARCH_CANDIDATES = 23
    assert "23 pages found" in client.get("/en/search/", {"q": "somatostatin"}).content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the statement timeout is PostgreSQL's")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_search_past_its_statement_timeout_is_stopped_with_a_clear_answer(client, settings):
    import psycopg

    settings.SEARCH_RATE_LIMIT = 0
    settings.SEARCH_TIMEOUT_MS = 300
    with edited():
        page = PageFactory(slug="octreotide", title_en="Octreotide")
    publish_fixture(page, "en")
    params = connection.get_connection_params()
    with psycopg.connect(**{key: params[key] for key in ("host", "port", "user", "dbname") if key in params}) as other:
        other.execute("LOCK TABLE pages_livesnapshot IN ACCESS EXCLUSIVE MODE")  # the search waits on it
        response = client.get("/cy/search/", {"q": "octreotide"})
        other.rollback()
    assert response.status_code == 503
    assert "Roedd y chwiliad yn cymryd gormod o amser" in response.content.decode()
    # The timeout was the search's own: the next request's queries have none.
    assert client.get("/en/search/", {"q": "octreotide"}).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] != "300ms"


def test_excerpts_keep_headings_paragraphs_and_list_items_apart(client):
    with edited():
        page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", summary_en="A rare tumour.")
        SectionFactory(page=page, heading_en="Symptoms", body_en="<p>Symptoms come from the hormone.</p>"
                       "<ul><li>a rash</li><li>weight loss</li></ul>")  # fmt: skip
    publish_fixture(page, "en")
    _titles, html = results(client, "en", "rash")
    assert "Symptoms · Symptoms come from the hormone. · a <mark>rash</mark> · weight loss" in html


def test_a_line_break_typed_inside_a_paragraph_does_not_split_it(client):
    with edited():
        page = PageFactory(slug="glucagonoma", title_en="Glucagonoma")
        SectionFactory(page=page, heading_en="Symptoms", body_en="<p>Symptoms come from\nthe hormone: a rash.</p>")
    publish_fixture(page, "en")
    _titles, html = results(client, "en", "rash")
    assert "Symptoms · Symptoms come from the hormone: a <mark>rash</mark>" in html


@pytest.fixture
def partly_translated():
    """An Arabic page with a section still in English (its signed-off English wording)."""
    with edited():
        page = PageFactory(slug="octreotide", title_en="Octreotide", title_ar="أوكتريوتيد")
        SectionFactory(page=page, heading_en="How it works", heading_ar="كيف يعمل",
                       body_en="<p>Octreotide slows hormone release.</p>",
                       body_ar="<p>يبطئ octreotide إفراز الهرمونات.</p>")  # fmt: skip
        SectionFactory(page=page, heading_en="Side effects", body_en="<p>Octreotide can upset your stomach.</p>")
    publish_fixture(page, "en", "ar")
    return page


def excerpt_of(html: str) -> str:
    return re.search(r'<ol class="results">.*?<p\b.*?</p>', html, re.S).group(0)


def test_english_wording_in_an_arabic_result_says_it_is_english(client, partly_translated):
    _titles, html = results(client, "ar", "stomach")
    excerpt = excerpt_of(html)
    assert language_of(excerpt, "upset your") == ("en", "ltr")
    assert "<mark>stomach</mark>" in excerpt


def test_an_excerpt_in_two_languages_marks_each_piece_with_its_own(client, partly_translated):
    _titles, html = results(client, "ar", "octreotide")
    excerpt = excerpt_of(html)
    assert language_of(excerpt, "إفراز الهرمونات") == ("", "")  # the page's own: Arabic, right to left
    assert language_of(excerpt, "can upset your stomach") == ("en", "ltr")


def test_results_in_the_readers_language_carry_no_language_of_their_own(client, partly_translated):
    _titles, html = results(client, "en", "octreotide")
    assert " lang=" not in html.split('<ol class="results">')[1].split("</ol>")[0]
