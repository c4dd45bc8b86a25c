"""The preview of unsaved changes: the form as it stands, read through the admin's real
form and shown with the public template; nothing saved, cached or made public."""

import pytest
from reversion.models import Version

from pages.models import PageRevision, Section
from tests.admin_forms import change_form
from tests.factories import publish_fixture
from tests.review.steps import as_user, public_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_day")]


def preview(client, user, page, language="en", **changes):
    return as_user(client, user).post(
        f"/admin/pages/page/{page.pk}/preview/unsaved/{language}/", change_form(page, change_comment="", **changes)
    )


def saved(page):
    return (
        list(Section.objects.filter(page=page).order_by("pk").values_list("heading_en", "body_en", "body_cy")),
        PageRevision.objects.filter(page=page).count(),
        Version.objects.count(),
    )


def test_an_editor_previews_unsaved_wording_with_the_public_template(client, people, page):
    publish_fixture(page, "en")
    before = saved(page)
    response = preview(
        client,
        people["editor"],
        page,
        title_en="Glucagonoma (rare)",
        **{"sections-0-body_en": "<p>Surgery, or octreotide injections.</p><p></p>"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Glucagonoma (rare)</h1>" in html and "<p>Surgery, or octreotide injections.</p>" in html
    assert "<p></p>" not in html
    assert "Preview of unsaved changes: not saved, not signed off, not public." in html
    # It does not invent review dates or a reviewer for wording nobody has reviewed.
    assert "Clinically reviewed by" not in html and "Last reviewed:" not in html
    assert "the review dates and the reviewer's name are set when a clinical reviewer approves" in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert saved(page) == before
    assert "octreotide" not in public_text(client, "en")


def test_sections_added_and_removed_on_the_form_are_previewed_in_place(client, people, page):
    data = {
        "sections-TOTAL_FORMS": "2",
        "sections-1-position": "1",
        "sections-1-heading_en": "Follow up",
        "sections-1-body_en": "<p>Scans every 6 months.</p>",
        "sections-1-heading_cy": "Dilyniant",
        "sections-1-body_cy": "<p>Sganiau bob 6 mis.</p>",
    }
    html = preview(client, people["editor"], page, "cy", **data).content.decode()
    assert "Triniaeth" in html and "Dilyniant" in html and "Sganiau bob 6 mis." in html
    html = preview(client, people["editor"], page, **(data | {"sections-0-DELETE": "on"})).content.decode()
    assert "Treatment" not in html and "Follow up" in html
    assert Section.objects.filter(page=page).count() == 1


def test_what_saving_would_refuse_is_not_previewed(client, people, page):
    before = saved(page)
    response = preview(client, people["editor"], page, **{"sections-0-body_en": "<p>Dose</p><script>x()</script>"})
    assert response.status_code == 400
    assert "The form has errors" in response.content.decode() and "x()" not in response.content.decode()
    response = preview(client, people["editor"], page, "ar", title_ar="")
    assert response.status_code == 400 and "has no title in" in response.content.decode()
    assert saved(page) == before


def test_only_people_who_may_edit_preview_unsaved_changes_and_only_by_post(client, people, page):
    url = f"/admin/pages/page/{page.pk}/preview/unsaved/en/"
    data = change_form(page)
    assert as_user(client, people["reviewer"]).post(url, data).status_code == 403
    assert as_user(client, people["publisher"]).post(url, data).status_code == 403
    assert as_user(client, people["editor"]).get(url).status_code == 405
    assert (
        as_user(client, people["editor"]).post(f"/admin/pages/page/{page.pk}/preview/unsaved/xx/", data).status_code
        == 404
    )
    client.logout()
    assert client.post(url, data).status_code == 302  # to sign in
