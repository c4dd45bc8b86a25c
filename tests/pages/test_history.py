"""Edit history: one revision per save holding the page, its sections and every
language; comments required; compare, revert and recover; append-only."""

import re

import pytest
import reversion
from reversion.models import Revision, Version

from pages import history
from pages.models import Page, PageRevision, RevisionRequired, Section
from review import roles
from tests.admin_forms import change_form, save_in_admin
from tests.factories import PageFactory, SectionFactory, UserFactory, edited, publish_fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = UserFactory(username="eleri", first_name="Eleri", last_name="Editor", roles=[roles.EDITOR])
    client.force_login(user)
    return user


@pytest.fixture
def glucagonoma():
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", title_cy="Glwcagonoma")
    SectionFactory(
        page=page,
        position=0,
        heading_en="Symptoms",
        heading_cy="Symptomau",
        body_en="<p>A rash.</p>",
        body_cy="<p>Brech ar y croen.</p>",
    )
    SectionFactory(
        page=page,
        position=1,
        heading_en="Treatment",
        heading_cy="Triniaeth",
        body_en="<p>Surgery.</p>",
        body_cy="<p>Llawdriniaeth.</p>",
    )
    return page


def test_pages_and_sections_are_registered_with_every_language_column():
    page_fields = reversion.revisions._get_options(Page).fields
    section_fields = reversion.revisions._get_options(Section).fields
    assert {"title_en", "title_cy", "title_ar", "summary_cy"} <= set(page_fields)
    assert {"body_en", "body_cy", "body_ar", "heading_ar"} <= set(section_fields)
    # The untranslated originals read whichever language is active; they are left out.
    assert "title" not in page_fields and "body" not in section_fields


def test_a_welsh_only_edit_is_one_revision_with_the_page_and_all_its_sections(client, editor, glucagonoma):
    revisions_before = Revision.objects.count()
    save_in_admin(client, glucagonoma, **{"sections-1-body_cy": "<p>Llawdriniaeth neu feddyginiaeth.</p>"})

    assert Revision.objects.count() == revisions_before + 1
    revision = Revision.objects.latest("pk")
    assert (revision.user, revision.comment) == (editor, "Routine update.")
    by_model = {}
    for version in revision.version_set.all():
        by_model.setdefault(version.content_type.model, []).append(version.field_dict)
    assert len(by_model["page"]) == 1 and len(by_model["section"]) == 2
    assert by_model["page"][0]["title_cy"] == "Glwcagonoma"
    bodies = {fields["heading_en"]: fields["body_cy"] for fields in by_model["section"]}
    assert bodies == {"Symptoms": "<p>Brech ar y croen.</p>", "Treatment": "<p>Llawdriniaeth neu feddyginiaeth.</p>"}
    page_revision = PageRevision.objects.get(revision=revision)
    assert (page_revision.number, page_revision.languages) == (4, ["cy"])


def test_a_save_without_a_comment_is_refused_and_saves_nothing(client, editor, glucagonoma):
    revisions_before = Revision.objects.count()
    response = client.post(
        f"/admin/pages/page/{glucagonoma.pk}/change/", change_form(glucagonoma, title_en="Changed", change_comment="")
    )
    assert response.status_code == 200
    assert "What changed and why" in response.content.decode()
    assert '<ul class="errorlist' in response.content.decode()
    glucagonoma.refresh_from_db()
    assert glucagonoma.title_en == "Glucagonoma"
    assert Revision.objects.count() == revisions_before


def test_content_saved_outside_a_revision_is_refused():
    with pytest.raises(RevisionRequired):
        Page(slug="no-history", title_en="No history").save()
    assert not Page.objects.exists()


def test_a_revision_without_a_comment_is_refused_by_the_service():
    with pytest.raises(history.CommentRequired), history.revision(user=None, comment="  "):
        Page(slug="x", title_en="X").save()
    assert not Page.objects.exists()


def test_history_lists_revisions_newest_first_with_author_comment_languages_and_live_marks(client, editor, glucagonoma):
    publish_fixture(glucagonoma, "en", "cy")
    save_in_admin(client, glucagonoma, **{"sections-0-body_cy": "<p>Cosi ar y croen.</p>"}, change_comment="Welsh fix.")
    html = client.get(f"/admin/pages/page/{glucagonoma.pk}/history/").content.decode()
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(\d+)</th>(.*?)</tr>", html, re.S)
    assert [number for number, _row in rows] == ["4", "3", "2", "1"]
    newest, published = rows[0][1], rows[1][1]
    assert "Eleri Editor" in newest and "Welsh fix." in newest and "<td>cy</td>" in newest
    assert "live now: en, cy" in published


def test_compare_highlights_a_changed_welsh_word(client, editor, glucagonoma):
    save_in_admin(client, glucagonoma, **{"sections-0-body_cy": "<p>Cosi ar y croen.</p>"})
    html = client.get(f"/admin/pages/page/{glucagonoma.pk}/history/compare/", {"old": 3, "new": 4}).content.decode()
    assert "<del>Brech</del><ins>Cosi</ins> ar y croen." in re.sub(r'<span class="diff-label">[^<]*</span>', "", html)
    assert "removed: </span>Brech" in html and "Text (Cymraeg)" in html


def test_compare_shows_sections_added_removed_and_moved(client, editor, glucagonoma):
    symptoms, _treatment = glucagonoma.sections.all()
    with edited():  # revision 4: Symptoms goes, Diagnosis and Follow up come
        Section.objects.get(pk=symptoms.pk).delete()
        SectionFactory.build(page=glucagonoma, position=0, heading_en="Diagnosis", body_en="<p>Scans.</p>").save()
        SectionFactory.build(page=glucagonoma, position=2, heading_en="Follow up", body_en="<p>Visits.</p>").save()
    with edited():  # revision 5: Diagnosis moves from first to last
        Section.objects.filter(heading_en="Diagnosis").update(position=9)
        glucagonoma.save()
    html = client.get(f"/admin/pages/page/{glucagonoma.pk}/history/compare/", {"old": 3, "new": 4}).content.decode()
    assert "Section removed from 1: Symptoms" in html
    assert "Section added at 1: Diagnosis" in html
    assert "Section added at 3: Follow up" in html
    html = client.get(f"/admin/pages/page/{glucagonoma.pk}/history/compare/", {"old": 4, "new": 5}).content.decode()
    assert "Section moved from 1 to 3: Diagnosis" in html
    assert "Section 1 unchanged: Treatment" in html


def test_compare_escapes_everything_it_shows(client, editor, glucagonoma):
    with edited():
        glucagonoma.title_en = "<script>alert(1)</script> & <b>bold</b>"
        glucagonoma.save()
    html = client.get(f"/admin/pages/page/{glucagonoma.pk}/history/compare/", {"old": 3, "new": 4}).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert" in html


def test_compare_spells_out_links_terms_and_superscripts(client, editor, glucagonoma):
    target = PageFactory(slug="tests")
    body = (
        f'<p>A rash. 10<sup>9</sup>/L; see <a href="page:{target.pk}">tests</a> and '
        '<a href="term:biopsy" title="A small sample of tissue.">biopsy</a></p>'
    )
    save_in_admin(client, glucagonoma, **{"sections-0-body_en": body})
    html = client.get(f"/admin/pages/page/{glucagonoma.pk}/history/compare/", {"old": 3, "new": 4}).content.decode()
    assert "^{9}" in html
    assert "→ /tests/]" in html
    assert "definition: A small sample of tissue.]" in html


def test_revert_restores_sections_as_a_new_revision_and_leaves_live_alone(client, editor, glucagonoma):
    publish_fixture(glucagonoma, "en")
    public_before = client.get("/en/glucagonoma/").content
    save_in_admin(client, glucagonoma, title_en="Glucagonoma (rewritten)")
    with edited():
        SectionFactory.build(page=glucagonoma, position=9, heading_en="Added later").save()
        glucagonoma.save()

    confirm = client.get(f"/admin/pages/page/{glucagonoma.pk}/history/3/revert/")
    assert confirm.status_code == 200
    assert "Section removed from 3: Added later" in confirm.content.decode()
    assert PageRevision.objects.filter(page=glucagonoma).count() == 5  # a GET changes nothing

    response = client.post(f"/admin/pages/page/{glucagonoma.pk}/history/3/revert/", {"reason": "Rewrite withdrawn"})
    assert response.status_code == 302
    glucagonoma.refresh_from_db()
    assert glucagonoma.title_en == "Glucagonoma"
    assert [s.heading_en for s in glucagonoma.sections.all()] == ["Symptoms", "Treatment"]
    latest = PageRevision.objects.filter(page=glucagonoma).select_related("revision").first()
    assert latest.number == 6
    assert latest.revision.comment == "Reverted to revision 3 by Eleri Editor: Rewrite withdrawn"
    assert client.get("/en/glucagonoma/").content == public_before


def test_a_reviewer_may_read_history_but_not_revert(client, glucagonoma):
    client.force_login(UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER]))
    assert client.get(f"/admin/pages/page/{glucagonoma.pk}/history/").status_code == 200
    assert client.post(f"/admin/pages/page/{glucagonoma.pk}/history/1/revert/").status_code == 403
    assert PageRevision.objects.filter(page=glucagonoma).count() == 3


def test_history_of_a_page_is_not_shown_to_people_without_access(client, glucagonoma):
    client.force_login(UserFactory(username="stranger"))
    assert client.get(f"/admin/pages/page/{glucagonoma.pk}/history/").status_code == 403
    assert client.get(f"/admin/pages/page/{glucagonoma.pk}/history/compare/?old=1&new=2").status_code == 403


def test_a_deleted_page_is_recovered_with_its_sections(client, glucagonoma):
    client.force_login(UserFactory(username="root", first_name="Ada", last_name="Admin", is_superuser=True))
    page_id = glucagonoma.pk
    response = client.post(f"/admin/pages/page/{page_id}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Page.objects.filter(pk=page_id).exists()

    listing = client.get("/admin/pages/page/recover/").content.decode()
    assert "Glucagonoma" in listing
    response = client.post(f"/admin/pages/page/recover/{page_id}/")
    assert response.status_code == 302
    page = Page.objects.get(pk=page_id)
    assert [(s.heading_en, s.body_cy) for s in page.sections.all()] == [
        ("Symptoms", "<p>Brech ar y croen.</p>"),
        ("Treatment", "<p>Llawdriniaeth.</p>"),
    ]
    latest = PageRevision.objects.filter(page_id=page_id).select_related("revision").first()
    assert (latest.number, latest.revision.comment) == (4, "Recovered by Ada Admin")


def test_history_is_append_only_in_the_admin(client, editor, glucagonoma):
    versions, revisions = Version.objects.count(), Revision.objects.count()
    for url in (
        "/admin/reversion/",
        "/admin/reversion/revision/",
        "/admin/reversion/version/",
        "/admin/pages/pagerevision/",
        "/admin/pages/publication/",
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(
            url, {"action": "delete_selected", "_selected_action": ["1"], "post": "yes"}
        ).status_code in (403, 404), url
    # Editors cannot delete pages, so not even a page's deletion touches its history.
    assert client.post(f"/admin/pages/page/{glucagonoma.pk}/delete/", {"post": "yes"}).status_code == 403
    assert (Version.objects.count(), Revision.objects.count()) == (versions, revisions)


def test_publishing_records_the_revision_that_went_live(glucagonoma):
    [snapshot] = publish_fixture(glucagonoma, "en")
    latest = PageRevision.objects.filter(page=glucagonoma).first()
    assert snapshot.revision == latest
    assert list(glucagonoma.publications.values_list("language", "revision")) == [("en", latest.pk)]


def test_demo_pages_start_with_one_revision_each(demo_content):
    assert set(PageRevision.objects.values_list("number", flat=True)) == {1}
    assert PageRevision.objects.count() == Page.objects.count() == 10


@pytest.mark.parametrize("revisions", [3, 500])
def test_history_list_costs_the_same_queries_however_long_it_is(client, editor, django_assert_num_queries, revisions):
    page = PageFactory(slug="busy", title_en="Busy")
    for number in range(revisions - 1):
        with edited(comment=f"Edit {number}"):
            page.summary_en = f"Summary {number}"
            page.save()
    publish_fixture(page, "en")
    client.get(f"/admin/pages/page/{page.pk}/history/")  # warm the content-type cache
    with django_assert_num_queries(HISTORY_QUERIES):
        response = client.get(f"/admin/pages/page/{page.pk}/history/")
    assert response.content.decode().count('<th scope="row">') == min(revisions, 50)


# Session, user, the page, the user's and the groups' permissions, the count, one
# page of revisions with their authors, their publications, what is live now, their
# sign-offs: the same for 3 revisions or 500.
HISTORY_QUERIES = 10
