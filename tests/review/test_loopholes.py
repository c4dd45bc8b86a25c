"""The sign-off without loopholes, each as an outside audit reproduced it, through the
admin's real views and the public addresses: a recall that could be undone, self
re-confirmation, editors moving live pages, and bad input."""

import csv
import datetime
import io
import re

import pytest
from django.core import mail
from django.core.management import call_command

from pages.models import LiveSnapshot, Page, Redirect
from review import roles, services
from review.models import ReviewRequest, State, Transition
from tests.admin_forms import change_form
from tests.factories import PageFactory, SectionFactory, UserFactory, edited, publish_fixture
from tests.review.steps import (
    approve,
    as_user,
    edit,
    messages_of,
    open_request,
    public_text,
    publish_in_admin,
    streamed,
    submit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fixed_day")]


def withdraw_in_admin(client, user, page, reason, status=302):
    response = as_user(client, user).post(f"/admin/pages/page/{page.pk}/workflow/withdraw/", {"reason": reason})
    assert response.status_code == status
    return response


# 1. A recall can be undone without a new sign-off.


def test_a_recall_cannot_be_undone_by_publishing_the_approval_it_recalled(client, people, page):
    publish_fixture(page, "en", "cy")
    edit(client, people["editor"], page, summary_cy="Dos: 10 mg.")
    submit(client, people["editor"], page, "cy")
    approved = open_request(page, "cy")
    approve(client, people["reviewer"], approved)
    withdraw_in_admin(client, people["publisher"], page, "Safety recall: dose wording wrong")

    approved.refresh_from_db()
    assert approved.state == State.SUPERSEDED
    superseded = Transition.objects.get(request=approved, action="supersede")
    assert (superseded.user, superseded.comment) == (
        people["publisher"],
        "The page was withdrawn: Safety recall: dose wording wrong",
    )
    form = as_user(client, people["publisher"]).get(f"/admin/pages/page/{page.pk}/change/").content.decode()
    assert f"/workflow/publish/{approved.pk}/" not in form
    second_publisher = UserFactory(username="penny", roles=[roles.PUBLISHER])
    response = publish_in_admin(client, second_publisher, approved)
    assert "cannot be published" in messages_of(response)[-1]
    client.logout()
    for language in ("cy", "en"):
        assert client.get(f"/{language}/glucagonoma/").status_code == 410
    assert "Dos: 10 mg." not in public_text(client, "cy")


def test_a_withdrawal_supersedes_open_requests_in_every_language(client, people, page):
    publish_fixture(page, "en")
    edit(client, people["editor"], page, title_en="Glucagonoma (rare)", title_cy="Glwcagonoma (prin)")
    submit(client, people["editor"], page, "en", "cy")
    approve(client, people["reviewer"], open_request(page, "en"))
    withdraw_in_admin(client, people["publisher"], page, "Recall")
    assert set(ReviewRequest.objects.values_list("language", "state")) == {
        ("en", State.SUPERSEDED),
        ("cy", State.SUPERSEDED),
    }


def test_an_approval_older_than_the_withdrawal_is_refused_by_the_service_too(people, page):
    publish_fixture(page, "en")
    with edited(user=people["editor"]):
        page.title_en = "Glucagonoma (rare)"
        page.save()
    (request,) = services.submit(page=page, languages=["en"], user=people["editor"])
    services.approve(request=request, user=people["reviewer"])
    services.withdraw(page=page, user=people["publisher"], reason="Recall")
    # Even put back in the approved state behind the workflow's back, it cannot go live.
    ReviewRequest.objects.filter(pk=request.pk).update(state=State.APPROVED)
    with pytest.raises(services.WorkflowError, match="withdrawn after this version was approved"):
        services.publish(request=request, user=people["publisher"])
    assert LiveSnapshot.objects.get(page=page).withdrawn_at is not None


def test_only_a_publisher_may_even_see_the_withdraw_form(client, people, page):
    publish_fixture(page, "en")
    url = f"/admin/pages/page/{page.pk}/workflow/withdraw/"
    for person in ("editor", "reviewer", "nobody"):
        assert as_user(client, people[person]).get(url).status_code == 403
    assert as_user(client, people["publisher"]).get(url).status_code == 200


# 2. "Reviewed, no change needed" had no four-eyes check.


def welsh_written_and_published_by_a_lead(client, people, page):
    """A lead (editor, reviewer and publisher) who wrote the live Welsh wording."""
    lead = UserFactory(username="lowri", roles=[roles.EDITOR, roles.CLINICAL_REVIEWER, roles.PUBLISHER])
    publish_fixture(page, "en", "cy")
    edit(client, lead, page, summary_cy="Prin iawn.")
    submit(client, lead, page, "cy")
    approve(client, people["reviewer"], open_request(page, "cy"))
    publish_in_admin(client, lead, open_request(page, "cy"))
    return lead


def test_the_author_of_live_wording_cannot_reconfirm_it(client, people, page):
    lead = welsh_written_and_published_by_a_lead(client, people, page)

    url = f"/admin/pages/page/{page.pk}/workflow/reconfirm/cy/"
    response = as_user(client, lead).post(url, {"last_reviewed": "2026-11-25", "next_review_due": "2036-11-25"})
    assert response.status_code == 403
    live = LiveSnapshot.objects.get(page=page, language="cy")
    assert (live.signed_off_by, live.next_review_due) == ("Dr Rhys Evans", datetime.date(2029, 11, 25))
    assert "Dr Rhys Evans" in public_text(client, "cy")

    # Another reviewer may; the version's authors stay on record, so the lead still may not after that.
    other = UserFactory(username="ffion", first_name="Dr Ffion", last_name="Hughes", roles=[roles.CLINICAL_REVIEWER])
    response = as_user(client, other).post(url, {"last_reviewed": "2026-11-25", "next_review_due": "2029-11-25"})
    assert response.status_code == 302
    assert LiveSnapshot.objects.get(page=page, language="cy").signed_off_by == "Dr Ffion Hughes"
    response = as_user(client, lead).post(url, {"last_reviewed": "2026-11-25", "next_review_due": "2029-11-25"})
    assert response.status_code == 403


def test_a_reconfirmation_keeps_to_the_review_interval(people, page):
    publish_fixture(page, "en")
    with pytest.raises(services.WorkflowError, match="at most 36 months"):
        services.reconfirm(
            page=page, language="en", user=people["reviewer"], next_review_due=datetime.date(9999, 12, 31)
        )


# 3. An editor alone changed a live page's address and place.


@pytest.fixture
def tree(people):
    parent = PageFactory(slug="nets", title_en="NETs")
    child = PageFactory(slug="glucagonoma", parent=parent, title_en="Glucagonoma")
    grandchild = PageFactory(slug="tests", parent=child, title_en="Tests")
    for node in (parent, child, grandchild):
        publish_fixture(node, "en")
    other = PageFactory(slug="other", title_en="Other")
    publish_fixture(other, "en")
    return {"parent": parent, "child": child, "grandchild": grandchild, "other": other}


def test_an_editor_cannot_change_a_live_pages_address_or_place(client, people, tree):
    child = tree["child"]
    data = change_form(child, slug="renamed", parent=tree["other"].pk, position="9", change_comment="Tidy up")
    response = as_user(client, people["editor"]).post(f"/admin/pages/page/{child.pk}/change/", data)
    assert response.status_code == 302
    child.refresh_from_db()
    assert (child.path, child.parent_id, child.position) == ("nets/glucagonoma", tree["parent"].pk, 0)
    client.logout()
    assert client.get("/en/nets/glucagonoma/").status_code == 200
    assert client.get("/en/other/renamed/").status_code == 404
    assert "/en/other/renamed/" not in client.get("/sitemap-pages-1.xml").content.decode()
    form = as_user(client, people["editor"]).get(f"/admin/pages/page/{child.pk}/change/").content.decode()
    assert 'name="slug"' not in form and 'name="parent"' not in form


def test_a_publisher_moves_a_live_page_and_every_old_address_answers_301(client, people, tree):
    url = f"/admin/pages/page/{tree['child'].pk}/workflow/move/"
    for person in ("editor", "reviewer", "nobody"):
        assert as_user(client, people[person]).get(url).status_code == 403
        assert (
            as_user(client, people[person]).post(url, {"slug": "x", "position": 0, "comment": "x"}).status_code == 403
        )
    assert as_user(client, people["publisher"]).get(url).status_code == 200
    move = {"parent": tree["other"].pk, "slug": "glucagonoma-tumour", "position": 0, "comment": "Clearer name"}
    assert as_user(client, people["publisher"]).post(url, move).status_code == 302

    client.logout()
    for old, new in [
        ("/en/nets/glucagonoma/", "/en/other/glucagonoma-tumour/"),
        ("/cy/nets/glucagonoma/", "/cy/other/glucagonoma-tumour/"),
        ("/en/nets/glucagonoma/tests/", "/en/other/glucagonoma-tumour/tests/"),
    ]:
        response = client.get(old)
        assert response.status_code == 301 and response["Location"] == new
        assert client.get(new).status_code == 200
    assert "/other/glucagonoma-tumour/tests/" in client.get("/sitemap-pages-1.xml").content.decode()
    assert "Glucagonoma" in client.get("/en/other/").content.decode()  # its new parent lists it
    assert "Glucagonoma" not in client.get("/en/nets/").content.decode()  # the old one no longer does
    logged = Transition.objects.get(action="move")
    assert logged.user == people["publisher"] and logged.languages == ["en"]
    assert "/nets/glucagonoma/ → /other/glucagonoma-tumour/" in logged.comment
    listing = as_user(client, people["editor"]).get("/admin/pages/redirect/").content.decode()
    assert "/nets/glucagonoma/tests/" in listing and "/other/glucagonoma-tumour/tests/" in listing


def test_moving_back_and_forth_never_makes_a_loop(client, people, tree):
    child = tree["child"]
    for slug in ("b", "c", "glucagonoma"):
        services.move(page=child, parent=tree["parent"], slug=slug, position=0, user=people["publisher"], comment="x")
    assert not Redirect.objects.filter(old_path="nets/glucagonoma").exists()
    assert client.get("/en/nets/glucagonoma/").status_code == 200
    for old in ("/en/nets/b/", "/en/nets/c/", "/en/nets/b/tests/"):
        response = client.get(old)
        assert response.status_code == 301 and response["Location"].startswith("/en/nets/glucagonoma/")


def test_an_old_address_of_a_withdrawn_page_answers_410(client, people, tree):
    child = tree["child"]
    services.move(page=child, parent=tree["parent"], slug="moved", position=0, user=people["publisher"], comment="x")
    services.withdraw(page=child, user=people["publisher"], reason="Recall")
    assert client.get("/en/nets/glucagonoma/").status_code == 410
    assert client.get("/en/nets/moved/").status_code == 410


def test_no_page_may_take_an_address_that_leads_to_another(people, tree):
    services.move(page=tree["other"], parent=None, slug="elsewhere", position=0, user=people["publisher"], comment="x")
    with pytest.raises(services.WorkflowError, match="belonged to another page"):
        services.move(page=tree["parent"], parent=None, slug="other", position=0, user=people["publisher"], comment="x")
    assert Page.objects.get(pk=tree["parent"].pk).path == "nets"


def test_an_editor_still_moves_a_page_never_public(client, people, tree):
    draft = PageFactory(slug="draft", parent=tree["other"], title_en="Draft")
    below = PageFactory(slug="below", parent=draft, title_en="Below")
    data = change_form(draft, slug="renamed", change_comment="Better slug")
    assert as_user(client, people["editor"]).post(f"/admin/pages/page/{draft.pk}/change/", data).status_code == 302
    assert Page.objects.get(pk=below.pk).path == "other/renamed/below"
    assert not Redirect.objects.exists()  # it never had a public address


def test_reverting_a_live_page_keeps_its_place(client, people, tree):
    child = tree["child"]
    services.move(page=child, parent=tree["parent"], slug="moved", position=0, user=people["publisher"], comment="x")
    response = as_user(client, people["editor"]).post(f"/admin/pages/page/{child.pk}/history/1/revert/", {})
    assert response.status_code == 302
    assert Page.objects.get(pk=child.pk).path == "nets/moved"


# 8. Bad input.


@pytest.mark.parametrize("address", ["/en/%00/", "/en/nets/%00glucagonoma/", "/cy/a%00b/c/"])
def test_a_nul_byte_in_an_address_is_a_404(client, tree, address):
    assert client.get(address).status_code == 404


def test_a_nul_byte_in_a_search_is_a_400(client, tree):
    response = client.get("/en/search/?q=a%00")
    assert response.status_code == 400 and "NUL" in response.content.decode()


def test_a_workflow_comment_is_held_to_its_limit_on_the_server(client, people, page):
    edit(client, people["editor"], page, title_en="Glucagonoma (rare)")
    submit(client, people["editor"], page, "en")
    review = open_request(page)
    url = f"/admin/pages/page/{page.pk}/workflow/review/{review.pk}/"
    response = as_user(client, people["reviewer"]).post(url, {"request_changes": "1", "comment": "x" * 1_000_000})
    assert response.status_code == 400 and "keep it to 4000" in response.content.decode()
    review.refresh_from_db()
    assert review.state == State.IN_REVIEW
    assert not Transition.objects.filter(action="request_changes").exists() and not mail.outbox
    with pytest.raises(services.WorkflowError, match="NUL"):
        services.request_changes(request=review, user=people["reviewer"], comment="Check\x00 the dose")


def test_every_ledger_cell_is_safe_from_spreadsheet_formulas(client, people, page):
    evil = UserFactory(username="evil", first_name='=HYPERLINK("x")', last_name="", roles=[roles.CLINICAL_REVIEWER])
    edit(client, people["editor"], page, title_en="Glucagonoma (rare)")
    submit(client, people["editor"], page, "en")
    approve(client, evil, open_request(page), comment="+1 looks fine")
    superuser = UserFactory(username="root2", is_superuser=True)
    export = streamed(as_user(client, superuser).get("/admin/review/reviewrequest/export.csv"))
    for row in csv.reader(io.StringIO(export)):
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@"), cell
    assert "'=HYPERLINK" in export and "'+1 looks fine" in export


def test_e_mail_subjects_are_plain_text(client, people, django_capture_on_commit_callbacks):
    page = PageFactory(slug="quotes", title_en='The "rare" tumour & you')
    SectionFactory(page=page)
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, people["editor"], page, "en")
    assert mail.outbox
    for message in mail.outbox:
        assert 'The "rare" tumour & you' in message.subject
        assert "&quot;" not in message.subject + message.body and "&amp;" not in message.subject + message.body


def test_a_section_heading_never_takes_an_id_of_the_page_itself(client):
    page = PageFactory(slug="ids", title_en="Ids")
    for heading in ("Site search q", "Main", "Terms", "TOC heading", "Children heading", "Related heading"):
        SectionFactory(page=page, heading_en=heading)
    publish_fixture(page, "en")
    html = client.get("/en/ids/").content.decode()
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(ids)
    assert 'id="site-search-q"' in html  # the search box keeps its own


def test_a_refused_next_address_after_sign_in_lands_on_the_admin(client):
    UserFactory(username="eleri2", password="a-long-test-password", roles=[roles.EDITOR])
    response = client.post(
        "/admin/login/?next=https://evil.example.org/",
        {"username": "eleri2", "password": "a-long-test-password", "next": "https://evil.example.org/"},
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_publishing_from_a_command_goes_through_the_workflow(people, page):
    (request,) = services.submit(page=page, languages=["en"], user=people["editor"])
    services.approve(request=request, user=people["reviewer"])
    call_command("publish_page", "glucagonoma", "--language", "en", "--by", "pat", stdout=io.StringIO())
    assert LiveSnapshot.objects.get(page=page).signed_off_by == "Dr Rhys Evans"


def test_an_old_address_costs_three_queries_however_many_pages_moved(client, people, tree, django_assert_num_queries):
    services.move(
        page=tree["parent"], parent=None, slug="neuroendocrine", position=0, user=people["publisher"], comment="x"
    )
    for slug in range(20):
        page = PageFactory(slug=f"extra-{slug}", parent=tree["parent"])
        publish_fixture(page, "en")
    services.move(page=tree["parent"], parent=None, slug="nets-2", position=0, user=people["publisher"], comment="x")
    # The stored page, the live version at the address, the redirect: whatever the size of the tree.
    for old in ("/en/nets/glucagonoma/tests/", "/en/neuroendocrine/extra-3/"):
        with django_assert_num_queries(3):
            assert client.get(old).status_code == 301
    with django_assert_num_queries(3):
        assert client.get("/en/never-a-page/").status_code == 404


def test_a_move_never_takes_over_an_address_that_leads_to_another_page(people, tree):
    # /p/q/ was a public page's address; it moved away, and /p/q/ leads to it for good.
    p = PageFactory(slug="p", title_en="P")  # never public itself
    q = PageFactory(slug="q", parent=p, title_en="Q")
    publish_fixture(q, "en")
    services.move(page=q, parent=None, slug="q", position=0, user=people["publisher"], comment="x")
    services.move(page=p, parent=None, slug="p-old", position=0, user=people["editor"], comment="x")
    # A page with a child called q may not become /p/: its child would take over /p/q/.
    t = PageFactory(slug="t", title_en="T")
    PageFactory(slug="q", parent=t, title_en="Child q")
    with pytest.raises(services.WorkflowError, match="/p/q/ belonged to another page"):
        services.move(page=t, parent=None, slug="p", position=0, user=people["editor"], comment="x")
    assert Redirect.objects.get(old_path="p/q").page_id == q.pk
    assert Page.objects.get(pk=t.pk).path == "t"


def test_a_move_under_a_parent_that_moved_meanwhile_follows_it(people, tree):
    stale_parent = Page.objects.get(pk=tree["other"].pk)
    services.move(page=tree["other"], parent=None, slug="other-2", position=0, user=people["publisher"], comment="x")
    services.move(page=tree["child"], parent=stale_parent, slug="glucagonoma", position=0, user=people["publisher"],
                  comment="x")  # fmt: skip
    assert Page.objects.get(pk=tree["child"].pk).path == "other-2/glucagonoma"


def test_reverting_a_live_page_whose_old_address_was_taken_keeps_its_place(client, people, tree):
    child = tree["child"]
    services.move(page=child, parent=tree["parent"], slug="renamed", position=0, user=people["publisher"], comment="x")
    # Another page takes the slug it had before (not an address it was public at: that one is kept).
    Redirect.objects.filter(old_path="nets/glucagonoma").delete()
    PageFactory(slug="glucagonoma", parent=tree["parent"], title_en="Newcomer")
    response = as_user(client, people["editor"]).post(f"/admin/pages/page/{child.pk}/history/1/revert/", {})
    assert response.status_code == 302 and "Reverted to revision 1" in messages_of(response)[-1]
    assert Page.objects.get(pk=child.pk).path == "nets/renamed"


def test_a_long_change_comment_on_a_move_is_a_form_error_not_a_500(client, people, tree):
    draft = PageFactory(slug="draft", parent=tree["other"], title_en="Draft")
    data = change_form(draft, slug="renamed", change_comment="x" * 4001)
    response = as_user(client, people["editor"]).post(f"/admin/pages/page/{draft.pk}/change/", data)
    assert response.status_code == 200 and "at most 4000 characters" in response.content.decode()
    assert Page.objects.get(pk=draft.pk).path == "other/draft"


def test_a_refused_step_says_why_on_an_admin_page_and_logs_one_line(client, people, page, caplog):
    lead = welsh_written_and_published_by_a_lead(client, people, page)
    caplog.clear()

    url = f"/admin/pages/page/{page.pk}/workflow/reconfirm/cy/"
    response = as_user(client, lead).post(url, {"last_reviewed": "2026-11-25", "next_review_due": "2036-11-25"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "You wrote changes in the live version, so another reviewer must re-confirm it." in html
    assert 'id="site-name"' in html and 'href="/admin/"' in html  # the admin's own page, with a way on
    refusals = [record for record in caplog.records if record.name == "django.request"]
    assert len(refusals) == 1 and refusals[0].exc_info is None and "\n" not in caplog.text.strip()

    # In Welsh for a Welsh-speaking admin, and a refusal without a reason says what it is.
    response = as_user(client, people["editor"]).get("/admin/review/reviewrequest/", HTTP_ACCEPT_LANGUAGE="cy")
    assert response.status_code == 403
    assert "Ni chaniateir hyn" in response.content.decode()
