"""The costs of a national site against its size. ``make_scale_content`` builds the site at
each of SCALE_SIZES live versions (1,000, 10,000 and 50,000; English, so that one language
holds them all), on PostgreSQL; at each size every cost below is measured, and at the end
each is printed at each size with its ratio to the smallest. The first thousand pages hang
from one hub, so that publishing or withdrawing it rebuilds 1,000 dependents.

Run with ``make bench-scale`` (about half an hour here); it prints figures and asserts
nothing about time. Query counts are the tests' business (tests/review/test_scale_costs.py).
"""

import io
import math
import os
import time
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, reset_queries, transaction
from django.test.utils import CaptureQueriesContext

from pages import cache, publishing, search
from pages.models import LiveSnapshot, Page
from review.models import Reminder
from tests.factories import UserFactory, edited

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="measured on PostgreSQL, as production runs"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SIZES = [int(size) for size in os.environ.get("SCALE_SIZES", "1000,10000,50000").split(",")]
HUB_DEPENDENTS = 1_000
HISTORY = 500  # revisions of the page whose history is read


def timed(function: Callable, runs: int = 15) -> tuple[float, int]:
    """The 95th percentile of ``function``'s time in ms (the worst of fewer than 20 runs), and
    the queries of one run."""
    reset_queries()  # with DEBUG on, the log is full and would not grow
    began = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        function()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    if not times:  # once only: what it leaves changes what a second run would do
        return (time.perf_counter() - began) * 1000, len(queries)
    return times[max(0, int(len(times) * 0.95) - 1)], len(queries)


def grow_to(size: int) -> float:
    """Make scale pages until ``size`` are live; the seconds it took."""
    have = LiveSnapshot.objects.live().count()
    began = time.perf_counter()
    if have == 0:  # one hub with the first thousand below it
        call_command("make_scale_content", pages=HUB_DEPENDENTS + 1, languages="en",
                     hub_size=HUB_DEPENDENTS + 1, stdout=io.StringIO())  # fmt: skip
        have = HUB_DEPENDENTS + 1
    if size > have:
        call_command("make_scale_content", pages=size - have, languages="en", stdout=io.StringIO())
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # index-only counts need the visibility map
    return time.perf_counter() - began


def long_history(owner) -> Page:
    """A page with ``HISTORY`` revisions."""
    with edited():
        page = Page.objects.create(slug="long-history", title_en="Long history", owner=owner)
    for number in range(HISTORY - 1):
        with edited(comment=f"Edit {number}"):
            page.summary_en = f"Summary {number}"
            page.save()
    return page


def republish(hub: Page) -> None:
    live = LiveSnapshot.objects.get(page=hub, language="en")
    with transaction.atomic():
        publishing.publish(page=hub, language="en", wording=live.source, revision=live.revision,
                           last_reviewed=live.last_reviewed, next_review_due=live.next_review_due,
                           signed_off_by=live.signed_off_by)  # fmt: skip


def measure(client, hub: Page, history: Page, sitemap_bytes: list[int]) -> dict[str, tuple[float, int]]:
    cache.clear()
    figures = {}
    pages = LiveSnapshot.objects.filter(page__slug__startswith="page-").order_by("pk")
    rare = pages.values_list("page__slug", flat=True)[pages.count() // 2]
    rare = f"px{int(rare.removeprefix('page-')):06d}"
    figures["search, common word"] = timed(lambda: search.find("glucagon", "en"))
    figures["search, a page's own word"] = timed(lambda: search.find(rare, "en"))
    figures["search page (HTTP), common word"] = timed(lambda: client.get("/en/search/", {"q": "pancreas"}))

    path = LiveSnapshot.objects.filter(page__parent=hub).order_by("pk").first().path

    def uncached():
        cache.clear()
        assert client.get(f"/en/{path}/").status_code == 200

    figures["public page, uncached"] = timed(uncached)

    def sitemap():
        cache.clear()
        client.get("/sitemap.xml")

    figures["sitemap index, uncached"] = timed(sitemap, runs=5)

    def sitemap_page():
        cache.clear()
        client.get("/sitemap-pages-1.xml")

    figures["sitemap page of 10,000, uncached"] = timed(sitemap_page, runs=5)
    pages = math.ceil(LiveSnapshot.objects.live().count() / 10_000)
    sitemap_bytes.append(sum(len(client.get(f"/sitemap-pages-{n}.xml").content) for n in range(1, pages + 1)))

    client.force_login(UserFactory(username=f"admin{LiveSnapshot.objects.count()}", is_staff=True, is_superuser=True))
    for name, url in [
        ("admin page list", "/admin/pages/page/"),
        ("admin page list, in review", "/admin/pages/page/?workflow=in_review"),
        ("admin page list, overdue", "/admin/pages/page/?review=overdue"),
        ("admin page list, searched", f"/admin/pages/page/?q={rare.removeprefix('px').lstrip('0')}"),
        # A word in nearly every page's text: answered within SEARCH_TIMEOUT_MS, from titles past it.
        ("admin page list, searched for a common word", "/admin/pages/page/?q=pancreas"),
        ("admin reviews due", "/admin/pages/page/reviews-due/"),
        ("admin sign-off ledger", "/admin/review/reviewrequest/"),
        (f"admin history of {HISTORY} revisions", f"/admin/pages/page/{history.pk}/history/"),
    ]:
        figures[name] = timed(lambda url=url: client.get(url), runs=5)

    def export():
        response = client.get("/admin/review/reviewrequest/export.csv")
        b"".join(response.streaming_content)

    figures["ledger CSV, every sign-off (linear by nature)"] = timed(export, runs=3)

    def reminders():
        Reminder.objects.all().delete()
        call_command("send_review_reminders", stdout=io.StringIO())

    figures["review reminders run"] = timed(reminders, runs=3)
    at_once = settings.DEPENDENTS_REBUILT_AT_ONCE
    figures[f"publish a hub with {HUB_DEPENDENTS:,} dependents ({at_once} at once)"] = timed(
        lambda: republish(hub), runs=3
    )
    figures["... and rebuild the rest (background)"] = timed(publishing.rebuild_all_waiting, runs=0)

    def withdraw_and_back():
        with transaction.atomic():
            publishing.withdraw(page=hub, reason="Measuring")
        republish(hub)

    figures["withdraw it, then publish it again"] = timed(withdraw_and_back, runs=3)

    def withdraw_and_back_rebuilt():
        withdraw_and_back()
        publishing.rebuild_all_waiting()

    figures["... with every dependent rebuilt after each"] = timed(withdraw_and_back_rebuilt, runs=1)
    return figures


def test_costs_against_the_size_of_the_site(client, settings):
    settings.DEBUG = True  # make_scale_content refuses otherwise
    settings.SEARCH_RATE_LIMIT = 0
    settings.REBUILD_IN_BACKGROUND = False  # measured as a step of its own
    with connection.cursor() as cursor:  # building the site takes longer than any request may
        cursor.execute("SET statement_timeout = 0")
    owner = UserFactory(username="history-owner")
    history = long_history(owner)
    rows, built, sitemap_bytes = [], [], []
    for size in SIZES:
        built.append(grow_to(size))
        hub = Page.objects.get(path="scale-1")
        rows.append(measure(client, hub, history, sitemap_bytes))
        print(f"\n{size:,} live versions, built in {built[-1]:.0f} s:")
        for name, (p95, queries) in rows[-1].items():
            print(f"  {name:<45} {p95:>9.1f} ms {queries:>5} queries")
    header = "".join(f"{size:>12,}" for size in SIZES)
    print(f"\nCosts against the size of the site (p95 in ms; PostgreSQL)\n{'live versions':<45}{header}  ratio")
    for name in rows[0]:
        figures = [row[name][0] for row in rows]
        cells = "".join(f"{figure:>12.1f}" for figure in figures)
        print(f"{name:<45}{cells}  {figures[-1] / figures[0]:.2f}×")
    cells = "".join(f"{size / 1000:>11.0f}k" for size in sitemap_bytes)
    print(f"{'sitemap, total KB (linear by nature)':<45}{cells}  {sitemap_bytes[-1] / sitemap_bytes[0]:.2f}×")
    print(f"{'built in s':<45}" + "".join(f"{seconds:>12.0f}" for seconds in built))
