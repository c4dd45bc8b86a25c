"""What history costs: the size one revision of the demo glucagonoma page adds to
the database, and the history page time for 60 and for 500 revisions.

Run with ``make bench``; it prints figures and asserts nothing about time.
"""

import io
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from reversion.models import Version

from pages.models import Page, PageRevision
from review import roles
from tests.factories import UserFactory, edited

GLUCAGONOMA = "neuroendocrine-cancer/pancreatic-neuroendocrine-tumours/glucagonoma"
EDITS = 200


def database_bytes() -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT sum(pg_total_relation_size(relid)) FROM pg_catalog.pg_statio_user_tables "
                "WHERE relname IN ('reversion_version', 'reversion_revision', 'pages_pagerevision')"
            )
            return int(cursor.fetchone()[0])
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_size")
        return pages * cursor.fetchone()[0]


@pytest.mark.django_db
def test_size_of_a_revision_of_the_demo_page():
    call_command("load_demo_content", stdout=io.StringIO())
    page = Page.objects.get(path=GLUCAGONOMA)
    first = PageRevision.objects.get(page=page)
    serialized = sum(len(v.serialized_data.encode()) for v in Version.objects.filter(revision=first.revision))
    sections = page.sections.count()

    before = database_bytes()
    for number in range(EDITS):
        with edited(comment=f"Benchmark edit {number}: a typical one-sentence reason for the change."):
            section = page.sections.all()[number % sections]
            section.body_cy = section.body_cy.replace("</p>", f" {number}</p>", 1)
            section.save()
    grown = database_bytes() - before

    print(f"\nOne revision of the glucagonoma page: {sections + 1} versions, {serialized / 1024:.1f} KiB serialised")
    print(f"{EDITS} edits grew the history tables by {grown / 1024:.0f} KiB on {connection.vendor},")
    print(f"  {grown / EDITS / 1024:.1f} KiB per revision")


@pytest.mark.django_db
def test_history_page_time_does_not_grow_with_revisions():
    client = Client()
    client.force_login(UserFactory(username="bench", roles=[roles.EDITOR]))
    timings = {}
    for revisions in (60, 500):
        with edited():
            page = Page.objects.create(slug=f"busy-{revisions}", title_en="Busy")
        for number in range(revisions - 1):
            with edited(comment=f"Edit {number}"):
                page.summary_en = f"Summary {number}"
                page.save()
        client.get(f"/admin/pages/page/{page.pk}/history/")
        start = time.perf_counter()
        for _ in range(20):
            client.get(f"/admin/pages/page/{page.pk}/history/")
        timings[revisions] = (time.perf_counter() - start) / 20
    print(f"\nHistory page: {timings[60] * 1000:.1f} ms with 60 revisions, {timings[500] * 1000:.1f} ms with 500")
    print(f"  ratio 500/60: {timings[500] / timings[60]:.2f} (both show 50 rows a page)")
