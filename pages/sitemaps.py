"""The sitemap, with Django's sitemaps framework: an index (``/sitemap.xml``) of sections
paged at ``SITEMAP_PAGE_SIZE`` addresses (``/sitemap-pages-2.xml``), each address with
its ``lastmod`` (when the version live at it was published) and its ``hreflang``
alternates (the languages the page is live in, and x-default). Paged well under the
protocol's limits of 50,000 addresses and 50 MB a file, whatever the length of the
addresses; cached with the public pages."""

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.urls import reverse

from pages import languages, rendering
from pages.models import LiveSnapshot


class _OnThisSite(Sitemap):
    def __init__(self):
        self.limit = settings.SITEMAP_PAGE_SIZE

    def get_protocol(self, protocol=None) -> str:
        return settings.SITE_URL.split("://", 1)[0]

    def get_domain(self, site=None) -> str:
        return settings.SITE_URL.split("://", 1)[1]

    def get_urls(self, page=1, site=None, protocol=None) -> list[dict]:
        urls = super().get_urls(page=page, site=site, protocol=protocol)
        for url in urls:
            url["alternates"] = [
                {"lang_code": link["hreflang"], "location": link["href"]} for link in self.links(url["item"])
            ]
        return urls

    def links(self, item) -> list[dict]:
        raise NotImplementedError


class HomePages(_OnThisSite):
    """The home page in each language."""

    def items(self) -> list[str]:
        return languages.codes()

    def location(self, item: str) -> str:
        return reverse("pages:home", kwargs={"language": item})

    def links(self, item: str) -> list[dict]:
        urls = {code: rendering.absolute(self.location(code)) for code in languages.codes()}
        links = [{"hreflang": code, "href": url} for code, url in urls.items()]
        return [*links, {"hreflang": "x-default", "href": urls[languages.source()]}]


class LivePages(_OnThisSite):
    """Every live page in every language it is live in."""

    def items(self):
        rows = LiveSnapshot.objects.live().order_by("path", "language")
        return rows.values_list("path", "language", "languages", "published_at")

    def location(self, item) -> str:
        path, language, _languages, _published_at = item
        return rendering.page_url(path, language)

    def lastmod(self, item):
        return item[3]

    def get_latest_lastmod(self):
        return LiveSnapshot.objects.live().aggregate(latest=Max("published_at"))["latest"]

    def links(self, item) -> list[dict]:
        path, _language, live_languages, _published_at = item
        return rendering.alternates(path, live_languages)


SECTIONS = {"home": HomePages, "pages": LivePages}
