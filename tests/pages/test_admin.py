"""Editing pages through the admin's real views."""

import re

import pytest
from django.core.management import call_command
from django.db import connection, connections

from pages.models import LiveSnapshot, Page, Section
from pages.people import page_owner_ids
from review import roles
from tests.factories import PageFactory, SectionFactory, UserFactory, edited, publish_fixture

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


def test_page_list_finds_words_in_summaries_and_sections_in_every_language_each_page_once(client, editor):
    summary = PageFactory(slug="insulinoma", title_en="Insulinoma", summary_cy="Tiwmor prin yn y pancreas.")
    sections = PageFactory(slug="glucagonoma", title_en="Glucagonoma")
    SectionFactory(page=sections, heading_en="Symptoms", body_en="<p>A <strong>rash</strong> that moves.</p>")
    SectionFactory(page=sections, heading_en="Diagnosis", body_en="<p>A rash, and weight loss.</p>")
    SectionFactory(page=sections, heading_en="Coping", heading_ar="التعايش", body_ar="<p>طفح جلدي</p>")
    PageFactory(slug="other", title_en="Other", summary_en="Nothing alike.")

    def found(query):
        listing = client.get("/admin/pages/page/", {"q": query}).context["cl"]
        assert listing.result_count == len(listing.result_list)  # counted as listed, each page once
        return list(listing.result_list)

    assert found("prin") == [summary]  # a Welsh summary
    assert found("RASH") == [sections]  # in two sections, listed once
    assert found("طفح") == found("التعايش") == [sections]  # Arabic text, an Arabic heading
    assert found("weight glucagonoma") == [sections]  # each word anywhere in the page
    assert found('"weight loss"') == [sections]
    assert found('"loss weight"') == []
    assert found("rash pancreas") == []


def test_choosing_a_parent_page_finds_pages_by_title_and_address_not_their_text(client, editor):
    titled = PageFactory(slug="rashes", title_en="Rashes")
    mentions = PageFactory(slug="glucagonoma", title_en="Glucagonoma", summary_en="It can cause a rash.")
    SectionFactory(page=mentions, body_en="<p>A rash.</p>")
    query = {"app_label": "pages", "model_name": "page", "field_name": "parent", "term": "rash"}
    results = client.get("/admin/autocomplete/", query).json()["results"]
    assert [result["id"] for result in results] == [str(titled.pk)]
    assert client.get("/admin/pages/page/", {"q": "rash"}).context["cl"].result_count == 2


def test_page_list_search_costs_the_same_queries_as_the_list(client, editor, django_assert_num_queries):
    for number in range(5):
        page = PageFactory(owner=editor, title_en=f"Glucagonoma {number}")
        SectionFactory(page=page, body_en="<p>Glucagon, glucagon.</p>")
        SectionFactory(page=page, body_en="<p>More glucagon.</p>")
    # On PostgreSQL the search runs in a savepoint with its own time limit: three statements more.
    with django_assert_num_queries(QUERIES + (3 if connection.vendor == "postgresql" else 0)):
        response = client.get("/admin/pages/page/", {"q": "glucagon"})
    assert response.context["cl"].result_count == 5


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statement timeouts are PostgreSQL's")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_search_the_text_cannot_answer_in_time_searches_titles_and_says_so(client, settings):
    editor = UserFactory(username="eleri", roles=[roles.EDITOR])
    client.force_login(editor)
    in_title = PageFactory(slug="glucagonoma", title_en="Glucagonoma")
    in_text = PageFactory(slug="insulinoma", title_en="Insulinoma")
    SectionFactory(page=in_text, body_en="<p>Not glucagonoma.</p>")
    settings.SEARCH_TIMEOUT_MS = 200
    # Another session holds the sections table, as a long write or a huge scan would: reading it waits.
    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Section._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        response = client.get("/admin/pages/page/", {"q": "glucagonoma"})
    finally:
        other.rollback()
        other.close()
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [in_title]
    (message,) = [str(m) for m in response.context["messages"]]
    assert message.startswith("Searching the pages' text for this took too long")
    # Once the table is free again, the text is searched as before.
    assert set(client.get("/admin/pages/page/", {"q": "glucagonoma"}).context["cl"].result_list) == {in_title, in_text}


def test_a_new_pages_slug_follows_its_source_language_title_and_an_existing_pages_never(client, editor):
    import json

    def prepopulated(html):
        found = re.search(
            r'id="django-admin-prepopulated-fields-constants"[^>]*data-prepopulated-fields="([^"]*)"', html
        )
        return json.loads(found[1].replace("&quot;", '"')) if found else []

    [slug] = prepopulated(client.get(ADD_URL).content.decode())
    assert (slug["id"], slug["dependency_ids"], slug["maxLength"]) == ("#id_slug", ["#id_title_en"], 80)
    # The same from a Welsh-speaking editor: the source language's title makes the address.
    [slug] = prepopulated(client.get(ADD_URL, HTTP_ACCEPT_LANGUAGE="cy").content.decode())
    assert slug["dependency_ids"] == ["#id_title_en"]
    page = PageFactory(slug="glucagonoma")
    assert prepopulated(client.get(f"/admin/pages/page/{page.pk}/change/").content.decode()) == []


def test_a_new_page_is_owned_by_the_person_adding_it_unless_they_choose_another(client, editor):
    other = UserFactory(username="bryn")
    html = client.get(ADD_URL).content.decode()
    owner = re.search(r'<select name="owner"[^>]*>.*?</select>', html, re.S)[0]
    assert re.findall(r'<option value="(\d+)" selected>', owner) == [str(editor.pk)]
    response = client.post(ADD_URL, page_form(owner=str(other.pk)))
    assert response.status_code == 302
    assert Page.objects.get(slug="glucagonoma").owner == other


def test_a_reviewer_reads_each_languages_wording_in_its_language_and_direction(client):
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", title_cy="Glwcagonoma", title_ar="الغلوكاغونوما")
    page.summary_ar = "ورم نادر."
    SectionFactory(
        page=page, heading_ar="الأعراض", body_ar="<p>طفح <strong>جلدي</strong>.</p>", body_cy="<p>Brech.</p>"
    )
    with edited():
        page.save()
    client.force_login(UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER]))
    html = client.get(f"/admin/pages/page/{page.pk}/change/").content.decode()

    def shown(name):
        row = re.search(
            rf'<div class="form-row[^"]*field-{name}[^"]*">.*?<div class="readonly">(.*?)</div>\s*</div>', html, re.S
        )
        assert row, name
        return row[1]

    for name, text in (
        ("title_ar", "الغلوكاغونوما"),
        ("summary_ar", "ورم نادر."),
        ("heading_ar", "الأعراض"),
        ("body_ar", "طفح **جلدي**."),  # rich text read as a comparison reads it, not as HTML
    ):
        assert shown(name) == f'<div lang="ar" dir="rtl">{text}', name
    assert shown("title_cy") == '<div lang="cy" dir="ltr">Glwcagonoma'
    assert shown("body_cy") == '<div lang="cy" dir="ltr">Brech.'
    assert shown("summary_cy").strip() == "-"  # nothing to mark where there is nothing
    # Nothing is saved from here, so nothing asks what changed.
    assert 'name="change_comment"' not in html
    # The language menu beside the title (modeltranslation's) has its name to hand.
    assert '<span id="language-switch-label" hidden>Language of the fields shown</span>' in html
    assert "js/language-switch.js" in html


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
    indexed = [("pages_page", column) for column in trigrams.page_columns()]
    indexed += [("pages_section", column) for column in trigrams.section_columns()]
    # Every column searched is indexed: the page's own, and its sections'.
    assert [column if table == "pages_page" else f"sections__{column}" for table, column in indexed] == list(
        page_admin.search_fields
    )
    assert {"summary_ar", "sections__body_cy", "sections__heading_en"} <= set(page_admin.search_fields)
    request = rf.get("/admin/pages/page/", {"q": "glwc"})
    request.user = UserFactory(is_superuser=True, is_staff=True)
    found = page_admin.get_changelist_instance(request).get_queryset(request)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test's few rows would be read whole anyway
        plan = found.order_by().values("pk").explain()  # as the list counts them
    missing = [trigrams.index_name(table, column) for table, column in indexed]
    assert [name for name in missing if name not in plan] == [], plan

    # A missing index (a language added later, say) is made by the next migrate.
    with connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX "{trigrams.index_name("pages_page", "title_cy")}"')
        cursor.execute(f'DROP INDEX "{trigrams.index_name("pages_section", "body_cy")}"')
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename IN ('pages_page', 'pages_section')")
        made = {row[0] for row in cursor.fetchall()}
    assert {trigrams.index_name("pages_page", "title_cy"), trigrams.index_name("pages_section", "body_cy")} <= made


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
