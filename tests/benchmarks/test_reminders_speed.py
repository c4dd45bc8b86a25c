"""What the daily reminder run costs: the command over 10,000 live page versions,
10% of them due, against a bare query that reads the same rows.

Run with ``make bench``; it prints figures and asserts nothing about time.
"""

import datetime
import io
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pages.models import LiveSnapshot, Page
from review import reminders
from tests.factories import UserFactory

VERSIONS = 10_000
OWNERS = 100
TODAY = datetime.date(2027, 3, 11)


def make_live_versions() -> None:
    owners = [UserFactory(username=f"owner{n}") for n in range(OWNERS)]
    pages = Page.objects.bulk_create(
        Page(slug=f"p{n}", path=f"p{n}", title_en=f"Page {n}", owner=owners[(n * 7 + n // 100) % OWNERS])
        for n in range(VERSIONS // 2)
    )
    published = datetime.datetime(2024, 3, 11, tzinfo=datetime.UTC)
    snapshots = []
    for number, page in enumerate(pages):
        for language in ("en", "cy"):
            index = 2 * number + (language == "cy")
            # One in ten due: spread over overdue, due today and the lead times; the rest years away.
            due = TODAY + datetime.timedelta(days=(index % 100) - 30) if index % 10 == 0 else TODAY.replace(year=2030)
            snapshots.append(
                LiveSnapshot(page=page, language=language, path=page.path, title=page.title_en,
                             last_reviewed=due.replace(year=due.year - 3), next_review_due=due,
                             signed_off_by="Dr A", published_at=published)
            )  # fmt: skip
    LiveSnapshot.objects.bulk_create(snapshots, batch_size=2000)


def bare_read() -> int:
    horizon = TODAY + datetime.timedelta(days=max(reminders.lead_times()))
    rows = LiveSnapshot.objects.filter(withdrawn_at__isnull=True, next_review_due__lte=horizon).values_list(
        "page_id", "language", "title", "path", "next_review_due", "page__owner__email"
    )
    return len(list(rows))


def timed(function, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


@pytest.mark.django_db
def test_reminder_run_over_ten_thousand_live_versions(settings):
    settings.REVIEW_REMINDER_FALLBACK_EMAIL = "lead@example.org"
    make_live_versions()
    bare_seconds, rows = timed(bare_read)

    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        call_command("send_review_reminders", "--date", TODAY.isoformat(), stdout=io.StringIO())
        first_seconds = time.perf_counter() - start
    sent, first_queries = len(mail.outbox), len(queries)
    with CaptureQueriesContext(connection) as queries:
        rerun_seconds, _ = timed(lambda: call_command("send_review_reminders", "--date", TODAY.isoformat(),
                                                      stdout=io.StringIO()), repeat=3)  # fmt: skip
    due = sum(1 for s in LiveSnapshot.objects.all() if reminders.kind_of(s.next_review_due, TODAY, [60, 14]))

    print(f"\nReminder run over {VERSIONS:,} live versions on {connection.vendor}: {due:,} reminders due")
    print(f"  bare query reading the {rows:,} rows near their due date: {bare_seconds * 1000:.1f} ms")
    print(f"  first run (records and sends {sent} digests): {first_seconds * 1000:.1f} ms, {first_queries} queries,")
    print(f"    {first_seconds / bare_seconds:.1f}x the bare query")
    print(f"  rerun the same day (sends nothing): {rerun_seconds * 1000:.1f} ms, {len(queries) // 3} queries,")
    print(f"    {rerun_seconds / bare_seconds:.1f}x the bare query")
