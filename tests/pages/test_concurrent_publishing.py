"""Two pages that show each other (each links to the other), published at the same
moment again and again: each live version stays built from its own signed-off
wording and the other's live title, never from what the other transaction had not
yet committed (PostgreSQL)."""

import copy
import threading

import pytest
from django.db import connection

from pages import rendering
from pages.models import LiveSnapshot
from pages.publishing import compose
from tests.factories import PageFactory, SectionFactory, edited, publish_fixture

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent publishing needs PostgreSQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
ROUNDS = 15


def test_simultaneous_publishes_of_pages_that_show_each_other_stay_consistent():
    with edited():
        first, second = PageFactory(slug="insulinoma"), PageFactory(slug="glucagonoma")
        SectionFactory(page=first, body_en=f'<p>See <a href="page:{second.pk}">glucagonoma</a>.</p>')
        SectionFactory(page=second, body_en=f'<p>See <a href="page:{first.pk}">insulinoma</a>.</p>')
    publish_fixture(first, "en")
    publish_fixture(second, "en")

    def publish_version(page, number, barrier, failures):
        try:
            barrier.wait(timeout=10)
            publish_fixture(page, "en")
        except Exception as error:  # reported below, in the test's thread
            failures.append(f"{page.slug} {number}: {type(error).__name__}: {error}")
        finally:
            connection.close()

    for number in range(ROUNDS):
        for page in (first, second):
            with edited():
                page.title_en = f"{page.slug} version {number}"
                page.save()
        barrier, failures = threading.Barrier(2), []
        threads = [threading.Thread(target=publish_version, args=(page, number, barrier, failures))
                   for page in (first, second)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failures, failures

        for snapshot in LiveSnapshot.objects.select_related("page"):
            # What building it afresh from its own wording and today's live site gives.
            fresh = copy.copy(snapshot)
            compose(fresh)
            rendering.store(fresh)
            assert snapshot.title == f"{snapshot.page.slug} version {number}"
            assert (snapshot.content, snapshot.html) == (fresh.content, fresh.html), f"round {number}: {snapshot}"
