"""Public pages are rendered when they are published, and served as stored; a
deploy that changes the templates never serves an old rendering."""

import io

import pytest
from django.core.management import call_command

from pages import rendering
from pages.models import LiveSnapshot
from pages.publishing import withdraw
from tests.factories import PageFactory, SectionFactory, publish_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def page():
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", title_cy="Glwcagonoma")
    SectionFactory(page=page, heading_en="Treatment", heading_cy="Triniaeth", body_en="<p>Surgery.</p>",
                   body_cy="<p>Llawdriniaeth.</p>")  # fmt: skip
    publish_fixture(page, "en")
    return page


def test_the_stored_rendering_is_what_readers_get_for_one_query(client, page, django_assert_num_queries):
    snapshot = LiveSnapshot.objects.get(page=page, language="en")
    assert snapshot.html_key == rendering.key() and "<p>Surgery.</p>" in snapshot.html
    with django_assert_num_queries(1):
        response = client.get("/en/glucagonoma/")
    assert response.content.decode() == snapshot.html


def test_another_language_going_live_renders_the_switcher_again(client, page):
    assert 'hreflang="cy"' not in LiveSnapshot.objects.get(page=page, language="en").html
    publish_fixture(page, "cy")
    english = LiveSnapshot.objects.get(page=page, language="en").html
    assert '<link rel="alternate" hreflang="cy" href="http://127.0.0.1:8000/cy/glucagonoma/">' in english
    assert 'hreflang="cy"' in client.get("/en/glucagonoma/").content.decode().split("</main>")[0]


def test_after_a_deploy_changed_the_templates_pages_are_rendered_afresh_until_stored_again(
    client, page, django_assert_num_queries
):
    LiveSnapshot.objects.filter(page=page).update(html="<p>Rendered by last year's templates.</p>", html_key="old")
    with django_assert_num_queries(2):  # the stored page (stale), then the live version whole, to render
        html = client.get("/en/glucagonoma/").content.decode()
    assert "last year" not in html and "<p>Surgery.</p>" in html

    out = io.StringIO()
    call_command("render_live_pages", stdout=out)
    assert "Rendered 1 live page(s)." in out.getvalue()
    assert LiveSnapshot.objects.get(page=page).html == html
    out = io.StringIO()
    call_command("render_live_pages", stdout=out)
    assert "Rendered 0 live page(s)." in out.getvalue()


def test_rendering_again_empties_the_page_cache(client, page):
    # As after restoring a backup: the database changed behind the site's back.
    assert client.get("/en/glucagonoma/")["X-Cache"] == "miss"
    LiveSnapshot.objects.filter(page=page).update(html="<p>From the backup.</p>")
    assert client.get("/en/glucagonoma/")["X-Cache"] == "hit"
    call_command("render_live_pages", "--all", stdout=io.StringIO())
    response = client.get("/en/glucagonoma/")
    assert response["X-Cache"] == "miss" and response.content.decode() == LiveSnapshot.objects.get(page=page).html
    assert "<p>Surgery.</p>" in response.content.decode()


def test_a_reader_of_another_language_gets_the_fallback_rendered_for_them(client, page):
    html = client.get("/ar/glucagonoma/").content.decode()
    assert '<html lang="ar" dir="rtl">' in html and '<article class="page" lang="ar" dir="rtl">' in html
    assert '<h1 lang="en" dir="ltr">Glucagonoma</h1>' in html
    assert '<section aria-labelledby="treatment" lang="en" dir="ltr">' in html and "<p>Surgery.</p>" in html


def test_a_fallback_page_is_stored_and_read_whole_in_one_query(client, page, django_assert_num_queries):
    # Defect: it was rendered per request from two reads, and a publish between them gave one
    # version's title and dates with the next one's sections.
    snapshot = LiveSnapshot.objects.get(page=page, language="en")
    assert set(snapshot.fallback_html) == {"cy", "ar"}
    with django_assert_num_queries(1):
        response = client.get("/cy/glucagonoma/")
    assert response.content.decode() == snapshot.fallback_html["cy"]
    assert '<html lang="cy" dir="ltr">' in snapshot.fallback_html["cy"]


def test_a_fallback_rendered_before_a_deploy_is_still_read_in_one_query(client, page, django_assert_num_queries):
    LiveSnapshot.objects.filter(page=page).update(html_key="an older deploy")
    with django_assert_num_queries(2):  # the stored page (stale), then the live version whole
        response = client.get("/ar/glucagonoma/")
    assert response.status_code == 200 and "<p>Surgery.</p>" in response.content.decode()


def test_withdrawing_drops_the_stored_rendering(client, page):
    withdraw(page=page, reason="Safety recall.")
    snapshot = LiveSnapshot.objects.get(page=page)
    assert (snapshot.html, snapshot.html_key) == ("", "")
    response = client.get("/en/glucagonoma/")
    assert response.status_code == 410 and "Surgery" not in response.content.decode()


def test_a_fallback_composed_before_it_named_pages_in_each_readers_language_is_still_shown(client):
    # As a version published by an earlier release left it: the pages around it in its own language only.
    parent = PageFactory(slug="nets", title_en="Neuroendocrine cancer", title_cy="Canser niwroendocrin")
    publish_fixture(parent, "en", "cy")
    page = PageFactory(slug="tests", parent=parent, title_en="Tests")
    SectionFactory(page=page, heading_en="Blood tests", body_en="<p>A blood sample.</p>")
    publish_fixture(page, "en")
    snapshot = LiveSnapshot.objects.get(page=page)
    assert snapshot.content["navigation_for"]["cy"]["breadcrumbs"][0]["title"] == "Canser niwroendocrin"
    del snapshot.content["navigation_for"]
    LiveSnapshot.objects.filter(pk=snapshot.pk).update(content=snapshot.content, html_key="an older release")
    html = client.get("/cy/nets/tests/").content.decode()
    assert '<a href="/en/nets/" lang="en" dir="ltr">Neuroendocrine cancer</a>' in html and "A blood sample." in html
    # After the deploy, rendering the live pages again composes it anew: the Welsh parent by its Welsh name.
    call_command("render_live_pages", stdout=io.StringIO())
    assert "navigation_for" in LiveSnapshot.objects.get(page=page).content
    html = client.get("/cy/nets/tests/").content.decode()
    assert '<a href="/cy/nets/">Canser niwroendocrin</a>' in html and "A blood sample." in html


def test_how_a_language_writes_dates_is_part_of_the_rendering_key(tmp_path, settings):
    # A package of formats like config.formats, with Welsh dates written another way.
    package = tmp_path / "otherformats"
    (package / "cy").mkdir(parents=True)
    for path in (package / "__init__.py", package / "cy" / "__init__.py"):
        path.write_text("")
    (package / "cy" / "formats.py").write_text('DATE_FORMAT = "j F Y"\n')
    rendering.key.cache_clear()
    before = rendering.key()
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(tmp_path))
        settings.FORMAT_MODULE_PATH = ["otherformats"]
        rendering.key.cache_clear()
        first = rendering.key()
        (package / "cy" / "formats.py").write_text('DATE_FORMAT = "d/m/Y"\n')
        rendering.key.cache_clear()
        assert rendering.key() != first != before
    rendering.key.cache_clear()
