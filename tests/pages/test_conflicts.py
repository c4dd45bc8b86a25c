"""Two editors, one page: the second save is refused with what changed, and
nothing of the first is overwritten (optimistic locking), also when both
requests arrive at the same moment (PostgreSQL)."""

import threading

import pytest
from django.db import connection
from django.test import Client

from pages.models import PageRevision, Section
from review import roles
from tests.admin_forms import change_form
from tests.factories import PageFactory, SectionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def page():
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", title_cy="Glwcagonoma")
    SectionFactory(page=page, heading_en="Treatment", body_en="<p>Surgery.</p>")
    return page


def editor_client(name):
    client = Client()
    client.force_login(UserFactory(username=name, first_name=name.title(), roles=[roles.EDITOR]))
    return client


def test_the_second_of_two_editors_gets_a_conflict_and_the_first_edit_stands(page):
    first, second = editor_client("eleri"), editor_client("owain")
    url = f"/admin/pages/page/{page.pk}/change/"
    # Both open the form on revision 2.
    eleri_form = change_form(page, title_cy="Glwcagonoma (newydd)", change_comment="Welsh title")
    owain_form = change_form(page, title_en="Glucagonoma (pancreatic)", change_comment="English title")
    assert first.post(url, eleri_form).status_code == 302
    response = second.post(url, owain_form)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else saved this page while you were editing it: revision 3 by Eleri (Welsh title)" in html
    assert "changing cy" in html
    assert f"/admin/pages/page/{page.pk}/history/compare/?old=2&amp;new=3" in html
    page.refresh_from_db()
    assert (page.title_en, page.title_cy) == ("Glucagonoma", "Glwcagonoma (newydd)")
    assert PageRevision.objects.filter(page=page).count() == 3
    # Reloading gives a form based on the new revision, which saves.
    assert second.post(url, change_form(page, title_en="Glucagonoma (pancreatic)")).status_code == 302


def test_a_form_without_its_starting_revision_is_refused(client, page):
    client.force_login(UserFactory(username="eleri", roles=[roles.EDITOR]))
    data = change_form(page, title_en="Changed")
    del data["based_on"]
    response = client.post(f"/admin/pages/page/{page.pk}/change/", data)
    assert response.status_code == 200 and "Someone else saved this page" in response.content.decode()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent saves need PostgreSQL (CI's PostgreSQL pass)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_saves_at_the_same_moment_one_wins_and_one_is_told():
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma")
    section = SectionFactory(page=page, heading_en="Treatment", body_en="<p>Surgery.</p>")
    url = f"/admin/pages/page/{page.pk}/change/"
    forms = {
        "eleri": change_form(page, title_en="Glucagonoma by Eleri", change_comment="Eleri's edit"),
        "owain": change_form(page, title_en="Glucagonoma by Owain", change_comment="Owain's edit"),
    }
    forms["owain"]["sections-0-body_en"] = "<p>Surgery, by Owain.</p>"
    clients = {name: editor_client(name) for name in forms}
    start = threading.Barrier(2)
    statuses, errors = {}, []

    def save(name):
        try:
            start.wait()
            statuses[name] = clients[name].post(url, forms[name]).status_code
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(name,)) for name in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(statuses.values()) == [200, 302]
    winner = next(name for name, status in statuses.items() if status == 302)
    page.refresh_from_db()
    assert page.title_en == f"Glucagonoma by {winner.title()}"
    expected_body = "<p>Surgery, by Owain.</p>" if winner == "owain" else "<p>Surgery.</p>"
    assert Section.objects.get(pk=section.pk).body_en == expected_body  # nothing of the loser's got in
    assert PageRevision.objects.filter(page=page).count() == 3  # two made above, one saved here


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent saves need PostgreSQL (CI's PostgreSQL pass)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_save_committed_while_the_form_loads_is_never_written_back():
    # Defect: the form read the page, then its base revision; a save committing in between gave
    # old fields on a new base, which passed the conflict check and put the old summary back.
    from tests.test_concurrent_editing import FormFields

    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", summary_en="Rare.")
    SectionFactory(page=page, heading_en="Treatment", body_en="<p>Surgery.</p>")
    url = f"/admin/pages/page/{page.pk}/change/"
    eleri, owain = editor_client("eleri"), editor_client("owain")

    def owain_saves():
        try:
            owain.post(url, change_form(page, summary_en="Rare; most are found late.", change_comment="Summary"))
        finally:
            connection.close()

    saved = []

    def between_the_reads(execute, sql, params, many, context):
        # Right after the form's page row is read (the admin's query for it counts the
        # revisions as latest_revision), another editor's save commits.
        result = execute(sql, params, many, context)
        if not saved and "latest_revision" in sql:
            saved.append(True)
            thread = threading.Thread(target=owain_saves)
            thread.start()
            thread.join()
        return result

    with connection.execute_wrapper(between_the_reads):
        form = eleri.get(url).content.decode()
    assert saved
    parser = FormFields()
    parser.feed(form)
    data = dict(parser.fields) | {"title_en": "Glucagonoma (pancreatic)", "change_comment": "Title"}
    status = eleri.post(url, data).status_code
    page.refresh_from_db()
    assert page.summary_en == "Rare; most are found late.", "Owain's accepted summary was overwritten"
    assert status == 200 or page.title_en == "Glucagonoma (pancreatic)"
