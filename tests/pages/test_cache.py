"""Public pages from the shared cache: no SQL when cached, fresh at once after
publishing or withdrawing, and served from the database when the cache is down."""

import datetime
import secrets
import time

import pytest
from django.core.cache import cache
from django.db import connection

from pages import cache as pages_cache
from pages.cache import GENERATION_KEY, page_key
from pages.models import LiveSite, LiveSnapshot
from tests.factories import PageFactory, SectionFactory, UserFactory, edited, publish_fixture

pytestmark = pytest.mark.django_db

DOWN = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}


@pytest.fixture
def page():
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", title_cy="Glwcagonoma")
    SectionFactory(page=page, heading_en="Treatment", heading_cy="Triniaeth", body_en="<p>Surgery.</p>")
    publish_fixture(page, "en")
    return page


def test_a_cached_page_costs_no_query(client, page, django_assert_num_queries):
    first = client.get("/en/glucagonoma/")
    assert first["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get("/en/glucagonoma/")
    assert second["X-Cache"] == "hit"
    assert second.content == first.content
    assert second["Content-Language"] == "en"
    assert client.get("/en/")["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        assert client.get("/en/")["X-Cache"] == "hit"


def test_a_page_served_lately_is_answered_as_it_left_the_middleware_before_any_of_it_runs(client, page):
    first = client.get("/en/glucagonoma/")
    second = client.get("/en/glucagonoma/")
    assert not hasattr(second, "public_generation")  # answered by pages.cache.AnswerFromMemory, not the view
    assert second.content == first.content
    assert {**first.headers, "X-Cache": "hit"} == dict(second.headers)
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert second[header] == first[header]


def test_an_answer_kept_for_https_is_never_given_over_http(client, page, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    client.get("/en/glucagonoma/", secure=True)
    assert "max-age=3600" in client.get("/en/glucagonoma/", secure=True)["Strict-Transport-Security"]
    plain = client.get("/en/glucagonoma/")
    assert "Strict-Transport-Security" not in plain and plain.content.decode().count("Surgery.") == 1


def test_only_what_the_public_cache_serves_is_answered_from_memory(client, page, admin_client):
    client.get("/en/search/", {"q": "surgery"})
    assert client.get("/en/search/", {"q": "surgery"}).get("X-Cache") is None
    admin_client.get("/admin/")
    assert admin_client.get("/admin/").get("X-Cache") is None


def test_publishing_shows_at_once(client, page):
    assert "Surgery." in client.get("/en/glucagonoma/").content.decode()
    with edited():
        section = page.sections.get()
        section.body_en = "<p>Surgery or octreotide.</p>"
        section.save()
    assert "octreotide" not in client.get("/en/glucagonoma/").content.decode()  # not published yet
    publish_fixture(page, "en")
    assert "Surgery or octreotide." in client.get("/en/glucagonoma/").content.decode()
    # The Welsh address fell back to English and was cached; publishing Welsh replaces it.
    assert "Glwcagonoma" not in client.get("/cy/glucagonoma/").content.decode()
    publish_fixture(page, "cy")
    assert "Glwcagonoma" in client.get("/cy/glucagonoma/").content.decode()


def test_withdrawing_and_reconfirming_show_at_once(client, page):
    from review import roles, services

    client.get("/en/glucagonoma/")
    reviewer = UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    due = datetime.date.today() + datetime.timedelta(days=1000)
    services.reconfirm(page=page, language="en", user=reviewer, next_review_due=due)
    assert f'"{due:%Y-%m-%d}"' in client.get("/en/glucagonoma/").content.decode()
    publisher = UserFactory(username="pat", roles=[roles.PUBLISHER])
    services.withdraw(page=page, user=publisher, reason="Safety alert")
    assert client.get("/en/glucagonoma/").status_code == 410
    assert "Glucagonoma" not in client.get("/en/").content.decode()


def test_errors_are_not_cached(client, page):
    assert client.get("/en/nowhere/").status_code == 404
    assert client.get("/en/nowhere/").get("X-Cache") is None


def test_the_cache_down_means_pages_from_the_database_and_a_warning(client, page, settings, caplog):
    settings.CACHES = DOWN
    response = client.get("/en/glucagonoma/")
    assert response.status_code == 200 and "Surgery." in response.content.decode()
    assert "Public page cache unavailable, serving from the database" in caplog.text
    publish_fixture(page, "en")  # invalidating a cache that is down does not stop publishing
    assert "Could not invalidate the public page cache" in caplog.text


def test_a_real_redis_serves_pages_across_clients(client, page, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/3",
            "KEY_PREFIX": "clinical-cms-test",
        }
    }
    cache.clear()
    assert client.get("/en/glucagonoma/")["X-Cache"] == "miss"
    assert client.__class__().get("/en/glucagonoma/")["X-Cache"] == "hit"  # another client, same shared cache
    publish_fixture(page, "en")
    assert client.get("/en/glucagonoma/")["X-Cache"] == "miss"
    cache.clear()


def test_healthz_reports_the_database_and_the_cache(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]
    settings.CACHES = DOWN
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "degraded"


def another_server_publishes(page, text: str) -> None:
    """What this server sees when another one publishes: the database and the shared
    cache change, and nothing tells this process."""
    LiveSnapshot.objects.filter(page=page).update(html=f"<p>{text}</p>")
    cache.set(GENERATION_KEY, (secrets.randbits(62), None), timeout=None)


def test_each_server_keeps_pages_in_memory_for_at_most_the_check_interval(client, page, settings):
    settings.PUBLIC_CACHE_CHECK_SECONDS = 60
    assert client.get("/en/glucagonoma/")["X-Cache"] == "miss"
    another_server_publishes(page, "Published elsewhere.")
    held = client.get("/en/glucagonoma/")
    assert held["X-Cache"] == "hit" and "Published elsewhere." not in held.content.decode()

    settings.PUBLIC_CACHE_CHECK_SECONDS = 0  # the interval has passed
    fresh = client.get("/en/glucagonoma/")
    assert fresh["X-Cache"] == "miss" and fresh.content.decode() == "<p>Published elsewhere.</p>"


def test_a_cache_that_lost_everything_never_brings_back_an_old_page(client, page, settings):
    # Redis restarted (it keeps nothing on disk): the generation starts again, at a number never used.
    settings.PUBLIC_CACHE_CHECK_SECONDS = 0
    client.get("/en/glucagonoma/")
    LiveSnapshot.objects.filter(page=page).update(html="<p>Published while the cache was down.</p>")
    cache.clear()
    response = client.get("/en/glucagonoma/")
    assert response["X-Cache"] == "miss" and "while the cache was down" in response.content.decode()


def test_a_change_made_while_the_cache_was_unreachable_is_announced_when_it_is_back(client, page, settings, caplog):
    redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/3"}
    settings.CACHES = {"default": redis | {"KEY_PREFIX": f"unannounced-{page.pk}-{id(caplog)}"}}
    client.get("/en/glucagonoma/")
    assert client.get("/en/glucagonoma/")["X-Cache"] == "hit"

    up = settings.CACHES
    settings.CACHES = DOWN
    with edited():
        section = page.sections.get()
        section.body_en = "<p>Surgery or octreotide.</p>"
        section.save()
    publish_fixture(page, "en")
    assert "Could not invalidate the public page cache" in caplog.text

    settings.CACHES = up  # the same Redis, still holding the old page under the old generation
    response = client.get("/en/glucagonoma/")
    assert response["X-Cache"] == "miss" and "Surgery or octreotide." in response.content.decode()
    cache.clear()


def test_no_page_stays_cached_longer_than_the_backstop(client, page, settings):
    # Neither the shared cache nor a server's memory keeps a page past PUBLIC_CACHE_SECONDS.
    settings.PUBLIC_CACHE_SECONDS = 0
    assert client.get("/en/glucagonoma/")["X-Cache"] == "miss"
    assert client.get("/en/glucagonoma/")["X-Cache"] == "miss"


def test_a_page_cached_while_a_change_was_being_committed_is_not_served_after_it(
    client, page, django_capture_on_commit_callbacks
):
    old = client.get("/en/glucagonoma/").content
    with django_capture_on_commit_callbacks(execute=False) as committed:
        with edited():
            section = page.sections.get()
            section.body_en = "<p>Surgery or octreotide.</p>"
            section.save()
        publish_fixture(page, "en")
        # Meanwhile another server, still reading the committed (old) version, caches it
        # under the generation the change started.
        generation, _changes = cache.get(GENERATION_KEY)
        cache.set(page_key(generation, "testserver", "/en/glucagonoma/"), (time.time(), (old, "text/html", "en")))
    assert committed, "the change asked for nothing once committed"
    assert client.get("/en/glucagonoma/").content == old  # until the commit is announced
    for callback in committed:
        callback()
    assert "Surgery or octreotide." in client.get("/en/glucagonoma/").content.decode()


def test_a_change_whose_announcement_was_lost_is_announced_by_the_next_server_to_compare(
    client, page, django_capture_on_commit_callbacks, caplog
):
    # Defect: a publish whose process died after COMMIT (or never heard back from it) left the
    # old version cached under the new generation until PUBLIC_CACHE_SECONDS ran out.
    pages_cache.catch_up()  # the fixture's publish "committed" inside this test's transaction: never announced
    assert pages_cache.catch_up() is False  # nothing more to announce
    old = client.get("/en/glucagonoma/").content
    with django_capture_on_commit_callbacks(execute=False):  # the publishing process dies after COMMIT
        with edited():
            section = page.sections.get()
            section.body_en = "<p>Surgery or octreotide.</p>"
            section.save()
        publish_fixture(page, "en")
        generation, _changes = cache.get(GENERATION_KEY)  # another server caches the old version meanwhile
        cache.set(page_key(generation, "testserver", "/en/glucagonoma/"), (time.time(), (old, "text/html", "en")))
    assert client.get("/en/glucagonoma/").content == old

    assert pages_cache.catch_up() is True  # any server, comparing the database with the cache
    assert "Announcing a change to the live site the public page cache had not heard of" in caplog.text
    assert "Surgery or octreotide." in client.get("/en/glucagonoma/").content.decode()
    assert pages_cache.catch_up() is False


def test_a_cache_holding_a_count_the_database_never_reached_is_emptied(client, page):
    # A database restored from a backup is behind the cache: what it cached may never have been live now.
    pages_cache.catch_up()
    client.get("/en/glucagonoma/")
    generation, changes = cache.get(GENERATION_KEY)
    assert LiveSite.objects.get().changes == changes
    cache.set(GENERATION_KEY, (generation, changes + 5), timeout=None)
    assert pages_cache.catch_up() is True
    assert client.get("/en/glucagonoma/")["X-Cache"] == "miss"


def test_one_change_invalidates_the_cache_once(page, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as committed:
        with edited():
            page.title_cy = "Glwcagonoma"
            page.save()
        publish_fixture(page, "en", "cy")  # one transaction: two languages, their rebuilds
    assert len(committed) == 1


def test_another_process_sees_a_change_within_the_check_interval(client, page, settings):
    settings.PUBLIC_CACHE_CHECK_SECONDS = 5
    now = [0.0]
    other = pages_cache.Process(clock=lambda: now[0])
    with pages_cache.as_process(other):
        assert "Surgery." in client.get("/en/glucagonoma/").content.decode()
    with edited():
        section = page.sections.get()
        section.body_en = "<p>Surgery or octreotide.</p>"
        section.save()
    publish_fixture(page, "en")  # by this process
    with pages_cache.as_process(other):
        held = client.get("/en/glucagonoma/")
        assert held["X-Cache"] == "hit" and "octreotide" not in held.content.decode()  # within the interval
        now[0] += 5
        assert "Surgery or octreotide." in client.get("/en/glucagonoma/").content.decode()


def test_the_public_cache_can_be_switched_off(client, page, settings):
    settings.PUBLIC_CACHE_ENABLED = False
    assert client.get("/en/glucagonoma/").get("X-Cache") is None
    assert client.get("/en/glucagonoma/").get("X-Cache") is None


# SQLite cannot restore a database emptied by a transactional test (the PostgreSQL pass does).
RESTORED = connection.vendor == "postgresql"


@pytest.mark.django_db(transaction=True, serialized_rollback=RESTORED)
def test_one_committed_change_asks_once_for_the_cache_to_be_emptied():
    from django.db import transaction

    page = PageFactory(slug="committed", title_en="Committed", title_cy="Ymrwymedig")
    SectionFactory(page=page, heading_cy="Adran", body_en="<p>Text.</p>")
    with transaction.atomic():
        publish_fixture(page, "en", "cy")  # two languages and their rebuilds, one transaction
        pending = [call for _ids, call, _ in connection.run_on_commit if isinstance(call, pages_cache.Announcement)]
        assert len(pending) == 1
    assert not connection.run_on_commit


@pytest.mark.django_db(transaction=True, serialized_rollback=RESTORED)
def test_changing_the_live_site_outside_a_transaction_is_refused():
    from pages.publishing import lock_live_site

    with pytest.raises(RuntimeError, match="inside a transaction"):
        lock_live_site()


def test_a_page_copied_from_the_shared_cache_keeps_its_age(client, page, settings):
    # Defect: copied into a server's memory, a page started a new life there: twice PUBLIC_CACHE_SECONDS.
    settings.PUBLIC_CACHE_SECONDS = 600
    first_clock, second_clock = [1000.0], [1590.0]
    first = pages_cache.Process(clock=lambda: first_clock[0])
    second = pages_cache.Process(clock=lambda: second_clock[0])
    with pages_cache.as_process(first):
        assert client.get("/en/glucagonoma/")["X-Cache"] == "miss"  # stored at 1000
    with pages_cache.as_process(second):
        assert client.get("/en/glucagonoma/")["X-Cache"] == "hit"  # 590 s old: still fresh
        second_clock[0] = 1611.0
        assert client.get("/en/glucagonoma/")["X-Cache"] == "miss"  # 611 s old: gone from its memory too


def test_a_failing_cache_is_left_alone_for_a_while_instead_of_tried_on_every_request(client, page, settings, caplog):
    settings.CACHES = DOWN
    settings.PUBLIC_CACHE_RETRY_SECONDS = 60
    for _ in range(5):
        assert client.get("/en/glucagonoma/").status_code == 200
    assert caplog.text.count("Public page cache unavailable, serving from the database") == 1


def test_an_address_with_a_query_string_is_checked_by_the_middleware_as_ever(client, page):
    client.get("/en/glucagonoma/")
    client.get("/en/glucagonoma/")
    assert client.get("/en/glucagonoma/", {"from": "leaflet\x00"}).status_code == 400
    assert client.get("/en/glucagonoma/", {"from": "leaflet"})["X-Cache"] == "hit"
