"""What each screen, feed and run costs in queries does not grow with the site: measured on
a small site made by make_scale_content, and again once it is four times the size."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pages import cache
from pages.models import LiveSnapshot
from review.models import Reminder
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMIN = [
    "/admin/pages/page/",
    "/admin/pages/page/?workflow=in_review",
    "/admin/pages/page/?review=overdue",
    "/admin/pages/page/?live=yes",
    "/admin/pages/page/?q=page-1",
    "/admin/pages/page/reviews-due/",
    "/admin/review/reviewrequest/",
    "/admin/review/reviewrequest/?language=cy",
    "/admin/review/transition/",
]
PUBLIC = ["/en/search/?q=glucagon", "/cy/search/?q=glucagon", "/sitemap.xml", "/sitemap-pages-1.xml"]


def grow(pages: int) -> None:
    call_command("make_scale_content", pages=pages, languages="en,cy", batch=500, workers=1, stdout=io.StringIO())


def queries(function) -> int:
    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured)


def costs(client, superuser) -> dict[str, int]:
    cache.clear()
    client.force_login(superuser)
    found = {url: queries(lambda url=url: client.get(url)) for url in ADMIN}
    export = "/admin/review/reviewrequest/export.csv"
    found[export] = queries(lambda: b"".join(client.get(export).streaming_content))
    page = LiveSnapshot.objects.filter(path__contains="/page-").order_by("pk").values_list("page_id", flat=True)[3]
    for url in (f"/admin/pages/page/{page}/change/", f"/admin/pages/page/{page}/history/"):
        found[url] = queries(lambda url=url: client.get(url))
    client.logout()
    for url in PUBLIC:
        found[url] = queries(lambda url=url: client.get(url, {"page": 1} if "search" in url else {}))
    path = LiveSnapshot.objects.filter(path__contains="/page-").order_by("pk").values_list("path", flat=True)[3]
    found["a public page"] = queries(lambda: client.get(f"/cy/{path}/"))

    def reminders():
        Reminder.objects.all().delete()
        call_command("send_review_reminders", stdout=io.StringIO())

    found["review reminders run"] = queries(reminders)
    return found


def test_query_counts_do_not_grow_with_the_site(client, settings):
    settings.DEBUG = True
    settings.SEARCH_RATE_LIMIT = 0
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    grow(12)
    small = costs(client, superuser)
    assert Reminder.objects.count() > 0  # the run had reminders to send
    grow(36)
    assert LiveSnapshot.objects.live().count() == 2 * 48
    large = costs(client, superuser)
    assert large == small
    assert {url: count for url, count in large.items() if count > 25} == {}
