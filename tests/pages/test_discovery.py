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


def sitemap(client) -> dict[str, set[tuple[str, str]]]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    return {
        url.find(f"{SITEMAP}loc").text: {(link.get("hreflang"), link.get("href")) for link in url.iter(f"{XHTML}link")}
        for url in root.iter(f"{SITEMAP}url")
    }


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
