"""A page shown by more pages than DEPENDENTS_REBUILT_AT_ONCE: publishing, withdrawing or
moving it composes that many again at once and leaves the rest waiting, which readers get
composed on each request until they are stored again (in the background, or by
``manage.py rebuild_waiting_pages``). Every state in between shows only signed-off wording
and no link to a page that is not live; the stateful model runs the same with none at once."""

import io
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from pages import cache, moves, publishing, rendering
from pages.models import LiveSite, LiveSnapshot
from tests.factories import PageFactory, SectionFactory, edited, publish_fixture

pytestmark = pytest.mark.django_db

LINKING = 5


@pytest.fixture
def hub_and_pages(settings):
    """A hub and LINKING live pages below it whose first section links to it, in English and Welsh."""
    settings.DEPENDENTS_REBUILT_AT_ONCE = 2
    settings.REBUILD_IN_BACKGROUND = False
    with edited():
        hub = PageFactory(slug="nets", title_en="NETs", title_cy="Tiwmorau")
        pages = [PageFactory(slug=f"page-{n}", parent=hub, title_en=f"Page {n}") for n in range(LINKING)]
        for page in pages:
            SectionFactory(page=page, body_en=f'<p>Read about <a href="page:{hub.pk}">these tumours</a>.</p>')
    publish_fixture(hub, "en", "cy")
    for page in pages:
        publish_fixture(page, "en")
    return hub, pages


def waiting() -> list[int]:
    return sorted(LiveSnapshot.objects.filter(needs_rebuild=True).values_list("page_id", flat=True))


def read(client, page, language: str) -> str:
    cache.clear()
    response = client.get(f"/{language}/{page.path}/")
    assert response.status_code == 200
    return response.content.decode()


def test_withdrawing_a_hub_rebuilds_some_pages_at_once_and_readers_never_see_a_dead_link(client, hub_and_pages):
    hub, pages = hub_and_pages
    with transaction.atomic():
        publishing.withdraw(page=hub, reason="Under review")

    assert len(waiting()) == LINKING - 2
    for snapshot in LiveSnapshot.objects.filter(needs_rebuild=True):
        assert snapshot.html_key == "" and 'href="/en/nets/"' in snapshot.html  # stored, never served
    for page in pages:
        for language in ("en", "cy", "ar"):
            shown = read(client, page, language)
            assert "Read about these tumours." in shown, f"/{language}/{page.path}/"
            assert 'href="/en/nets/"' not in shown and 'href="/cy/nets/"' not in shown


def test_waiting_pages_are_composed_on_each_request_in_a_bounded_number_of_queries(
    client, hub_and_pages, django_assert_num_queries
):
    hub, pages = hub_and_pages
    with edited():
        hub.title_en = "Neuroendocrine tumours"
        hub.save()
    publish_fixture(hub, "en")
    [page, *_] = [page for page in pages if page.pk in waiting()]
    cache.clear()
    # The stored page's query, the snapshot, then composing: ancestors, children, live titles.
    with django_assert_num_queries(5):
        shown = client.get(f"/en/{page.path}/").content.decode()
    assert "Neuroendocrine tumours" in shown and ">NETs<" not in shown


def test_rebuilding_the_waiting_pages_stores_what_readers_were_shown_without_emptying_the_cache(client, hub_and_pages):
    hub, pages = hub_and_pages
    with transaction.atomic():
        publishing.withdraw(page=hub, reason="Under review")
    shown = {page.pk: read(client, page, "en") for page in pages}
    changes = LiveSite.objects.get().changes
    out = io.StringIO()

    call_command("rebuild_waiting_pages", stdout=out)

    assert "Rebuilding 3 page(s)" in out.getvalue() and "Rebuilt 3 page(s)" in out.getvalue()
    assert waiting() == []
    assert LiveSite.objects.get().changes == changes  # nothing readers see changed
    for snapshot in LiveSnapshot.objects.filter(page__in=pages):
        assert snapshot.html == shown[snapshot.page_id]
        assert snapshot.html_key and not snapshot.needs_rebuild
    call_command("rebuild_waiting_pages", stdout=(out := io.StringIO()))
    assert out.getvalue() == "No page is waiting to be rebuilt.\n"


def test_a_waiting_page_rendered_again_for_another_reason_still_carries_no_key(client, hub_and_pages):
    hub, pages = hub_and_pages
    with transaction.atomic():
        publishing.withdraw(page=hub, reason="Under review")
    [first, *_] = [page for page in pages if page.pk in waiting()]
    # Publishing Welsh renders the English version again (its language switcher changes).
    with edited():
        first.title_cy = "Tudalen"
        first.save()
    publish_fixture(first, "cy")
    english = LiveSnapshot.objects.get(page=first, language="en")
    assert english.needs_rebuild and english.html_key == ""
    assert 'href="/en/nets/"' not in read(client, first, "en")

    call_command("render_live_pages", stdout=io.StringIO())  # after a deploy: composed again too
    english.refresh_from_db()
    assert not english.needs_rebuild and english.html_key
    assert 'href="/en/nets/"' not in english.html and "Read about these tumours." in english.html


def test_moving_a_hub_leaves_waiting_pages_linking_to_its_new_address(client, hub_and_pages):
    hub, pages = hub_and_pages
    with edited():
        moves.move_page(page=hub, parent=None, slug="neuroendocrine", position=0)
    assert waiting()
    for page in pages:
        page.refresh_from_db()
        shown = read(client, page, "en")
        assert 'href="/en/neuroendocrine/"' in shown and 'href="/en/nets/"' not in shown


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite's shared in-memory test database locks whole tables between threads"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_app_server_rebuilds_the_waiting_pages_in_the_background(client, hub_and_pages, settings):
    hub, pages = hub_and_pages
    settings.REBUILD_IN_BACKGROUND = True
    with transaction.atomic():
        publishing.withdraw(page=hub, reason="Under review")
    deadline = time.monotonic() + 20
    while waiting() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert waiting() == []
    for snapshot in LiveSnapshot.objects.filter(page__in=pages):
        assert snapshot.html_key and "Read about these tumours." in snapshot.html
        assert 'href="/en/nets/"' not in snapshot.html


def test_a_waiting_page_is_never_served_as_stored_even_with_a_fresh_key(client, hub_and_pages):
    hub, _pages = hub_and_pages
    with transaction.atomic():
        publishing.withdraw(page=hub, reason="Under review")
    waiting_pages = LiveSnapshot.objects.filter(needs_rebuild=True)
    waiting_pages.update(html_key=rendering.key())  # as a release that knew nothing of waiting would store it
    for snapshot in waiting_pages.select_related("page"):
        assert 'href="/en/nets/"' in snapshot.html
        assert 'href="/en/nets/"' not in read(client, snapshot.page, "en")
        assert 'href="/en/nets/"' not in read(client, snapshot.page, "cy")  # the fallback stored for Welsh readers


def test_a_page_that_cannot_be_composed_again_is_left_waiting_and_holds_up_no_other(client, hub_and_pages, caplog):
    hub, _pages = hub_and_pages
    with transaction.atomic():
        publishing.withdraw(page=hub, reason="Under review")
    broken, *others = LiveSnapshot.objects.filter(needs_rebuild=True).order_by("pk")
    LiveSnapshot.objects.filter(pk=broken.pk).update(source={"title": {"text": "Torn"}})  # a damaged row

    with pytest.raises(CommandError, match="1 could not be composed again"):
        call_command("rebuild_waiting_pages", stdout=(out := io.StringIO()))

    assert "2 of 3, 1 failed" in out.getvalue()
    assert waiting() == [broken.page_id]
    assert f"Could not compose {broken} again" in caplog.text
    for snapshot in others:
        snapshot.refresh_from_db()
        assert not snapshot.needs_rebuild and snapshot.html_key
