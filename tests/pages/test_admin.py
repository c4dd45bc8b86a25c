"""Editing pages through the admin's real views."""

import re

import pytest
from django.core.management import call_command
from django.db import connection

from pages.models import LiveSnapshot, Page, Section
from pages.people import page_owner_ids
from review import roles
from tests.factories import PageFactory, SectionFactory, UserFactory, publish_fixture

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/pages/page/add/"
# Session, user, permissions, count, rows, live versions, open reviews, the revisions since live
# and the filters: 11, however many pages.
QUERIES = 11


@pytest.fixture
def editor(client):
    user = UserFactory(username="eleri", roles=[roles.EDITOR])
    client.force_login(user)
    return user


def page_form(**overrides):
    data = {
        "title_en": "Glucagonoma",
        "title_cy": "Glwcagonoma",
        "title_ar": "",
        "summary_en": "A rare tumour.",
        "summary_cy": "",
        "summary_ar": "",
        "parent": "",
        "slug": "glucagonoma",
        "position": "0",
        "owner": "",
        "review_interval_months": "36",
        "sections-TOTAL_FORMS": "0",
        "sections-INITIAL_FORMS": "0",
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "1000",
        "change_comment": "New page on glucagonoma.",
    }
    return data | overrides


def with_sections(data, *sections):
    data = dict(data, **{"sections-TOTAL_FORMS": str(len(sections))})
    for number, section in enumerate(sections):
        for field in ("heading_en", "heading_cy", "heading_ar", "body_en", "body_cy", "body_ar"):
            data[f"sections-{number}-{field}"] = section.get(field, "")
        data[f"sections-{number}-position"] = str(section.get("position", number))
    return data


def test_editor_adds_a_page_with_sections_in_two_languages(client, editor):
    tests_page = PageFactory(slug="tests")
    data = with_sections(
        page_form(),
        {
            "heading_en": "Symptoms",
            "heading_cy": "Symptomau",
            "body_en": "<p>A <strong>rash</strong>.</p>",
            "body_cy": "<p>Brech.</p>",
        },
        {"heading_en": "Diagnosis", "body_en": '<p>See <a href="/en/tests/">tests</a>; 10<sup>9</sup>/L.</p>'},
    )
    response = client.post(ADD_URL, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    page = Page.objects.get(slug="glucagonoma")
    assert (page.title_en, page.title_cy) == ("Glucagonoma", "Glwcagonoma")
    symptoms, diagnosis = page.sections.all()
    assert (symptoms.heading_cy, symptoms.body_cy) == ("Symptomau", "<p>Brech.</p>")
    assert diagnosis.body_en == f'<p>See <a href="page:{tests_page.pk}">tests</a>; 10<sup>9</sup>/L.</p>'


def test_body_that_would_lose_meaning_is_refused_and_nothing_is_saved(client, editor):
    data = with_sections(
        page_form(),
        {
            "heading_en": "Counts",
            "body_en": '<p>10<span class="x">9</span> and <img src="chart.png"> '
            '<a href="javascript:alert(1)">x</a></p>',
        },
    )
    response = client.post(ADD_URL, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This would be removed, so it cannot be saved: the &lt;img&gt; element." in html
    assert "javascript: links are not allowed" in html
    assert not Page.objects.exists()
    assert not Section.objects.exists()


def test_form_offers_the_rich_text_editor_and_language_tabs(client, editor):
    html = client.get(ADD_URL).content.decode()
    assert "data-django-prose-editor-configurable" in html
    assert "vendor/jquery-ui/jquery-ui.min.js" in html
    assert "modeltranslation/js/tabbed_translation_fields.js" in html
    for code in ("en", "cy", "ar"):
        assert f'name="title_{code}"' in html


def test_page_list_searches_every_language_and_filters_live_pages(client, editor):
    live = PageFactory(slug="glucagonoma", title_en="Glucagonoma", title_cy="Glwcagonoma")
    publish_fixture(live, "en")
    PageFactory(slug="draft", title_en="Draft page")
    html = client.get("/admin/pages/page/", {"q": "Glwcagonoma"}).content.decode()
    assert f"/admin/pages/page/{live.pk}/change/" in html
    assert "Draft page" not in html
    html = client.get("/admin/pages/page/", {"live": "no"}).content.decode()
    assert "Draft page" in html and f"/admin/pages/page/{live.pk}/change/" not in html


@pytest.mark.parametrize("pages", [3, 30])
def test_page_list_query_count_does_not_grow_with_pages(client, editor, django_assert_num_queries, pages):
    for number in range(pages):
        page = PageFactory(owner=editor)
        SectionFactory(page=page)
        if number % 2:
            publish_fixture(page, "en")
    with django_assert_num_queries(QUERIES):
        response = client.get("/admin/pages/page/")
    assert len(set(re.findall(r'href="/admin/pages/page/(\d+)/change/', response.content.decode()))) == pages


def test_reviewer_without_edit_rights_cannot_change_a_page(client):
    page = PageFactory()
    client.force_login(UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER]))
    assert client.get(f"/admin/pages/page/{page.pk}/change/").status_code == 200  # may view
    response = client.post(f"/admin/pages/page/{page.pk}/change/", page_form(slug=page.slug, title_en="Changed"))
    assert response.status_code == 403
    page.refresh_from_db()
    assert page.title_en != "Changed"
    assert client.get(ADD_URL).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(ADD_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_live_versions_cannot_be_edited_or_deleted_in_the_admin(client):
    page = PageFactory()
    [snapshot] = publish_fixture(page, "en")
    client.force_login(UserFactory(username="root", is_superuser=True))
    assert client.get(f"/admin/pages/livesnapshot/{snapshot.pk}/delete/").status_code == 403
    client.post(f"/admin/pages/livesnapshot/{snapshot.pk}/change/", {"title": "Hacked"})
    snapshot.refresh_from_db()
    assert snapshot.title != "Hacked"
    assert LiveSnapshot.objects.count() == 1


def test_the_page_lists_checkboxes_are_djangos_own_and_select_pages_for_actions(client):
    from django.contrib import admin as django_admin

    from pages.admin import PageAdmin

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    awkward = PageFactory(slug="awkward", title_en='Tom & "Jerry" <b>bold</b>')
    plain = PageFactory(slug="plain", title_en="Plain")
    page_admin = PageAdmin(Page, django_admin.site)
    for page in (awkward, plain):
        assert page_admin.action_checkbox(page) == django_admin.ModelAdmin.action_checkbox(page_admin, page)

    listing = client.get("/admin/pages/page/").content.decode()
    ticked = re.findall(
        r'<input type="checkbox" name="_selected_action" value="(\d+)"[^>]*aria-label="([^"]*)"', listing
    )
    assert ticked == [
        (str(awkward.pk), "Select this object for an action - Tom &amp; &quot;Jerry&quot; &lt;b&gt;bold&lt;/b&gt;"),
        (str(plain.pk), "Select this object for an action - Plain"),
    ]
    # What the list rendered is what an action receives.
    response = client.post("/admin/pages/page/", {"action": "delete_selected", "_selected_action": [ticked[0][0]]})
    assert response.status_code == 200 and "Are you sure" in response.content.decode()
    assert list(response.context["queryset"]) == [awkward]


def test_the_owner_filter_offers_everyone_who_owns_a_page_and_nobody_else(client, editor):
    owners = [UserFactory(username=name, first_name=name.title()) for name in ("ffion", "bryn", "carys")]
    UserFactory(username="idle", is_staff=True)  # owns nothing
    for number, owner in enumerate(owners * 2):
        PageFactory(slug=f"page-{number}", owner=owner)
    PageFactory(slug="unowned", owner=None)
    assert sorted(page_owner_ids()) == sorted(owner.pk for owner in owners)

    listing = client.get("/admin/pages/page/").content.decode()
    offered = set(re.findall(r"\?owner__id__exact=(\d+)", listing))
    assert offered == {str(owner.pk) for owner in owners}
    html = client.get("/admin/pages/page/", {"owner__id__exact": owners[1].pk}).content.decode()
    assert len(set(re.findall(r'href="/admin/pages/page/(\d+)/change/', html))) == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_the_page_lists_search_is_answered_from_trigram_indexes_on_postgresql(rf):
    from django.contrib import admin as django_admin

    from pages import trigrams

    page_admin = django_admin.site.get_model_admin(Page)
    assert trigrams.columns() == list(page_admin.search_fields)  # every column searched is indexed
    request = rf.get("/admin/pages/page/", {"q": "glwc"})
    request.user = UserFactory(is_superuser=True, is_staff=True)
    found = page_admin.get_changelist_instance(request).get_queryset(request)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test's few rows would be read whole anyway
        plan = found.order_by().values("pk").explain()  # as the list counts them
    assert all(trigrams.index_name(column) in plan for column in trigrams.columns()), plan

    # A missing index (a language added later, say) is made by the next migrate.
    with connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX "{trigrams.index_name("title_cy")}"')
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'pages_page'")
        assert trigrams.index_name("title_cy") in {row[0] for row in cursor.fetchall()}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_migrate_says_what_to_do_when_its_user_may_not_create_the_trigram_extension():
    from django.core.exceptions import ImproperlyConfigured

    from pages import trigrams

    with connection.cursor() as cursor:  # all undone with the test's transaction
        cursor.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.skip("needs a database user that may create roles")
        cursor.execute("DROP EXTENSION pg_trgm CASCADE")
        cursor.execute("CREATE ROLE trigram_test_nobody NOLOGIN")
        cursor.execute("SET ROLE trigram_test_nobody")
    with pytest.raises(ImproperlyConfigured, match="CREATE EXTENSION pg_trgm; in this database"):
        trigrams.create_indexes()


def test_an_address_with_no_page_id_in_it_answers_not_found(client):
    page = PageFactory()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get(f"/admin/pages/page/{page.pk}/compare/", follow=True).status_code == 404
    for url in (
        "/admin/pages/page/abc/change/",
        f"/admin/pages/page/{page.pk}x/change/",
        "/admin/pages/page/١/change/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/admin/pages/page/{page.pk}/change/").status_code == 200


def test_a_page_without_a_title_in_the_admins_language_shows_the_source_title_marked(client):
    from django.utils import translation

    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", title_cy="")
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    html = client.get("/admin/pages/page/", HTTP_ACCEPT_LANGUAGE="cy").content.decode()
    assert '<span lang="en">Glucagonoma</span> <span class="untranslated">(English)</span>' in html
    with translation.override("cy"):
        assert str(page) == "Glucagonoma"  # never its slug while any title exists


def test_each_languages_fields_are_marked_with_its_language_and_direction(client, editor):
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma")
    SectionFactory(page=page)
    html = client.get(f"/admin/pages/page/{page.pk}/change/").content.decode()
    for name in ("title_ar", "summary_ar", "sections-0-heading_ar", "sections-0-body_ar"):
        tag = re.search(rf'<(?:input|textarea)[^>]*name="{name}"[^>]*>', html)[0]
        assert 'lang="ar"' in tag and 'dir="rtl"' in tag, tag
    tag = re.search(r'<input[^>]*name="title_cy"[^>]*>', html)[0]
    assert 'lang="cy"' in tag and 'dir="ltr"' in tag
    assert "js/editor-language" in html


def test_a_form_with_errors_lists_each_one_at_the_top_with_a_link_to_its_field(client, editor):
    from tests.admin_forms import change_form

    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma")
    SectionFactory(page=page)
    data = change_form(page, title_cy="G" * 201, change_comment="", **{"sections-0-heading_ar": "ع" * 201})
    html = client.post(f"/admin/pages/page/{page.pk}/change/", data).content.decode()
    summary = html[html.index('class="error-summary"') : html.index("</nav>", html.index('class="error-summary"'))]
    links = re.findall(r'<a href="#(id_[\w-]+)">([^<]*)</a>', summary)
    assert [target for target, _text in links] == ["id_title_cy", "id_change_comment", "id_sections-0-heading_ar"]
    assert links[2][1].startswith("Section 1, ")
    assert not Page.objects.get(pk=page.pk).title_cy  # nothing saved
