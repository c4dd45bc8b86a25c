"""How search engines and printers see the site: sitemap.xml with language
alternates, robots.txt, description and Open Graph tags, a clean printout."""

import xml.etree.ElementTree as ElementTree

import pytest

from pages.publishing import withdraw
from tests.factories import PageFactory, SectionFactory, edited, publish_fixture

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
SITE = "http://127.0.0.1:8000"


@pytest.fixture
def pages():
    with edited():
        topic = PageFactory(slug="nets", title_en="NETs", title_cy="TNEau", summary_en="Tumours.")
        SectionFactory(page=topic, heading_en="About", heading_cy="Amdano", body_en="<p>Rare.</p>",
                       body_cy="<p>Prin.</p>")  # fmt: skip
        page = PageFactory(slug="glucagonoma", parent=topic, title_en="Glucagonoma", summary_en="A rare tumour.")
        SectionFactory(page=page, heading_en="Treatment", body_en='<p>See <a href="https://www.nhs.uk/">NHS</a>.</p>')
        recalled = PageFactory(slug="recalled", title_en="Recalled")
        SectionFactory(page=recalled, heading_en="Old", body_en="<p>Old advice.</p>")
        PageFactory(slug="draft", title_en="Never published")
    publish_fixture(topic, "en", "cy")
    publish_fixture(page, "en")
    publish_fixture(recalled, "en")
    withdraw(page=recalled, reason="Safety alert.")
    return topic, page


def xml(client, path: str) -> ElementTree.Element:
    response = client.get(path)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    return ElementTree.fromstring(response.content)


def sitemap_pages(client) -> list[str]:
    """The addresses of the sitemap's pages, from its index."""
    index = xml(client, "/sitemap.xml")
    assert index.tag == f"{SITEMAP}sitemapindex"
    return [entry.find(f"{SITEMAP}loc").text.removeprefix(SITE) for entry in index.iter(f"{SITEMAP}sitemap")]


def sitemap(client) -> dict[str, set[tuple[str, str]]]:
    """Every address in the sitemap, with its alternates."""
    urls = {}
    for page in sitemap_pages(client):
        for url in xml(client, page).iter(f"{SITEMAP}url"):
            links = {(link.get("hreflang"), link.get("href")) for link in url.iter(f"{XHTML}link")}
            urls[url.find(f"{SITEMAP}loc").text] = links
    return urls


def test_the_sitemap_lists_every_live_page_in_every_language_with_alternates(client, pages):
    urls = sitemap(client)
    assert set(urls) == {
        f"{SITE}/en/", f"{SITE}/cy/", f"{SITE}/ar/",
        f"{SITE}/en/nets/", f"{SITE}/cy/nets/", f"{SITE}/en/nets/glucagonoma/",
    }  # fmt: skip
    assert urls[f"{SITE}/cy/nets/"] == {
        ("en", f"{SITE}/en/nets/"), ("cy", f"{SITE}/cy/nets/"), ("x-default", f"{SITE}/en/nets/"),
    }  # fmt: skip
    assert ("cy", f"{SITE}/cy/nets/glucagonoma/") not in urls[f"{SITE}/en/nets/glucagonoma/"]


def test_the_sitemap_follows_publishing(client, pages):
    _topic, page = pages
    assert f"{SITE}/cy/nets/glucagonoma/" not in sitemap(client)
    with edited():
        page.title_cy = "Glwcagonoma"
        page.save()
        section = page.sections.get()
        section.heading_cy = "Triniaeth"
        section.save()
    publish_fixture(page, "cy")
    assert f"{SITE}/cy/nets/glucagonoma/" in sitemap(client)


def test_the_sitemap_is_an_index_of_pages_of_at_most_the_page_size(client, pages, settings, django_assert_num_queries):
    settings.SITEMAP_PAGE_SIZE = 2
    assert sitemap_pages(client) == [
        "/sitemap-home-1.xml", "/sitemap-home-2.xml", "/sitemap-pages-1.xml", "/sitemap-pages-2.xml",
    ]  # fmt: skip
    for page in sitemap_pages(client):
        assert len(list(xml(client, page).iter(f"{SITEMAP}url"))) <= 2
    assert len(sitemap(client)) == 6  # as with one page for all
    lastmod = xml(client, "/sitemap-pages-1.xml").find(f"{SITEMAP}url/{SITEMAP}lastmod").text
    assert lastmod == pages[0].snapshots.get(language="en").published_at.date().isoformat()
    assert client.get("/sitemap-pages-3.xml").status_code == 404
    assert client.get("/sitemap-pages-0.xml").status_code == 404
    assert client.get("/sitemap-drafts-1.xml").status_code == 404


def test_the_sitemap_costs_the_same_queries_however_many_pages_are_live(
    client, pages, settings, django_assert_num_queries
):
    from pages import cache

    settings.SITEMAP_PAGE_SIZE = 3
    with django_assert_num_queries(2):  # per section with addresses in the database: the count, the latest
        client.get("/sitemap.xml")
    with django_assert_num_queries(2):  # the count, the addresses
        client.get("/sitemap-pages-1.xml")
    with edited():
        more = [PageFactory(slug=f"more-{n}", title_en=f"More {n}") for n in range(5)]
    for page in more:
        publish_fixture(page, "en")
    cache.clear()
    with django_assert_num_queries(2):
        assert len(sitemap_pages(client)) == 1 + 3
    with django_assert_num_queries(2):
        client.get("/sitemap-pages-2.xml")
    with django_assert_num_queries(0):  # cached with the public pages
        client.get("/sitemap-pages-2.xml")


def test_robots_txt_points_at_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert f"Sitemap: {SITE}/sitemap.xml" in response.content.decode().splitlines()


def test_pages_describe_themselves_for_search_and_sharing(client, pages):
    head = client.get("/en/nets/glucagonoma/").content.decode().split("</head>")[0]
    assert '<meta name="description" content="A rare tumour.">' in head
    assert '<meta property="og:title" content="Glucagonoma">' in head
    assert f'<meta property="og:url" content="{SITE}/en/nets/glucagonoma/">' in head
    assert '<meta property="og:locale" content="en_GB">' in head
    assert '<meta property="og:type" content="article">' in head


def test_a_printout_carries_the_review_dates_and_the_address(client, pages):
    html = client.get("/cy/nets/").content.decode()
    assert 'class="review-dates"' in html
    assert f'<p class="print-address">Fersiwn diweddaraf y dudalen hon: {SITE}/cy/nets/</p>' in html
