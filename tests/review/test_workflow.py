"""The sign-off workflow through the admin's real views: who may take each step,
the four-eyes rule, the pinned revision, review dates, re-confirmation,
withdrawal, the log, the ledger and the e-mails."""

import csv
import datetime
import io
import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from pages.models import LiveSnapshot
from review import roles, services
from review.models import Notification, Profile, ReviewRequest, State, Transition
from tests.factories import PageFactory, SectionFactory, UserFactory, edited, publish_fixture
from tests.review.steps import (
    TODAY,
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


def test_a_change_goes_from_draft_to_live_through_every_step(client, people, page):
    edit(client, people["editor"], page, title_en="Glucagonoma (pancreatic NET)")
    submit(client, people["editor"], page, "en")
    review = open_request(page)
    assert review.state == State.IN_REVIEW
    assert list(review.authors.all()) == [people["editor"]]
    assert public_text(client, "en").count("pancreatic NET") == 0  # nothing is live yet

    approve(client, people["reviewer"], review)
    review.refresh_from_db()
    assert review.state == State.APPROVED and review.approved_by == people["reviewer"]
    assert review.last_reviewed == TODAY and review.next_review_due == datetime.date(2029, 11, 25)
    assert "pancreatic NET" not in public_text(client, "en")

    publish_in_admin(client, people["publisher"], review)
    review.refresh_from_db()
    assert review.state == State.PUBLISHED
    html = public_text(client, "en")
    assert "Glucagonoma (pancreatic NET)" in html
    assert '"2026-11-25">25 November 2026</time>' in html and '"2029-11-25">25 November 2029</time>' in html

    steps = list(
        Transition.objects.filter(page=page).order_by("at", "pk").values_list("action", "from_state", "to_state")
    )
    assert steps == [
        ("submit", "draft", "in_review"),
        ("approve", "in_review", "approved"),
        ("publish", "approved", "live"),
    ]
    approval = Transition.objects.get(page=page, action="approve")
    assert (approval.user, approval.revision, approval.languages, approval.comment) == (
        people["reviewer"], review.revision, ["en"], "Clinically accurate."
    )  # fmt: skip


@pytest.mark.parametrize(
    ("step", "allowed"),
    [
        ("submit", {"editor", "editor2", "editing_reviewer", "superuser"}),
        ("approve", {"reviewer", "editing_reviewer", "superuser"}),
        ("publish", {"publisher", "superuser"}),
    ],
)
def test_each_step_is_allowed_only_to_its_roles(client, people, page, step, allowed):
    edit(client, people["editor"], page, title_en="Glucagonoma, revised")
    for name, user in people.items():
        if step != "submit":
            services.submit(page=page, languages=["en"], user=people["editor"])
        if step == "publish":
            services.approve(request=open_request(page), user=people["reviewer"])
        before = Transition.objects.count()
        if step == "submit":
            response = submit(client, user, page, "en", status=302 if name in allowed else 403)
        elif step == "approve":
            response = approve(client, user, open_request(page), status=302 if name in allowed else 403)
        else:
            response = publish_in_admin(client, user, open_request(page), status=302 if name in allowed else 403)
        if name in allowed:
            assert Transition.objects.count() == before + 1, (name, messages_of(response))
        else:
            assert Transition.objects.count() == before, name
        # Back to a clean slate for the next person.
        ReviewRequest.objects.filter(state__in=[State.IN_REVIEW, State.APPROVED]).update(state=State.SUPERSEDED)
        LiveSnapshot.objects.all().delete()


def test_buttons_show_only_the_steps_the_person_may_take(client, people, page):
    edit(client, people["editor"], page, title_en="Glucagonoma, revised")
    form = as_user(client, people["editor"]).get(f"/admin/pages/page/{page.pk}/change/").content.decode()
    assert "Submit for review" in form
    submit(client, people["editor"], page, "en")
    review = open_request(page)
    review_url = f"/admin/pages/page/{page.pk}/workflow/review/{review.pk}/"
    form = as_user(client, people["editor"]).get(f"/admin/pages/page/{page.pk}/change/").content.decode()
    assert f'class="button" href="{review_url}"' not in form
    assert "another reviewer must approve your changes" in form
    offered = re.findall(r'name="languages" value="(\w+)"', form)
    assert offered == ["cy", "ar"]  # English is in review already
    form = as_user(client, people["reviewer"]).get(f"/admin/pages/page/{page.pk}/change/").content.decode()
    assert f'class="button" href="{review_url}"' in form
    assert "Submit for review" not in form and "/workflow/publish/" not in form
    services.approve(request=review, user=people["reviewer"])
    form = as_user(client, people["publisher"]).get(f"/admin/pages/page/{page.pk}/change/").content.decode()
    assert f"/workflow/publish/{review.pk}/" in form
    form = as_user(client, people["reviewer"]).get(f"/admin/pages/page/{page.pk}/change/").content.decode()
    assert "/workflow/publish/" not in form


def test_four_eyes_a_reviewer_cannot_approve_their_own_changes(client, people, page):
    author = people["editing_reviewer"]
    edit(client, author, page, title_en="Glucagonoma (edited by a reviewer)")
    submit(client, people["editor"], page, "en")  # submitted by someone else: still their words
    review = open_request(page)
    assert list(review.authors.all()) == [author]
    screen = as_user(client, author).get(f"/admin/pages/page/{page.pk}/workflow/review/{review.pk}/")
    assert "another reviewer must approve it" in screen.content.decode()
    assert 'name="approve"' not in screen.content.decode()
    approve(client, author, review, status=403)
    assert open_request(page).state == State.IN_REVIEW
    approve(client, people["reviewer"], review)
    assert open_request(page).state == State.APPROVED


def test_superusers_are_no_back_door_around_four_eyes(client, people, page):
    edit(client, people["superuser"], page, title_en="Glucagonoma (by the administrator)")
    submit(client, people["superuser"], page, "en")
    approve(client, people["superuser"], open_request(page), status=403)
    assert open_request(page).state == State.IN_REVIEW


def test_four_eyes_counts_only_changes_to_that_language_since_it_was_last_live(client, people, page):
    publish_fixture(page, "en", "cy")
    edit(client, people["editing_reviewer"], page, title_cy="Glwcagonoma (newydd)")
    edit(client, people["editor"], page, title_en="Glucagonoma (new)")
    submit(client, people["editor"], page, "en", "cy")
    english, welsh = open_request(page, "en"), open_request(page, "cy")
    assert list(english.authors.all()) == [people["editor"]]
    assert list(welsh.authors.all()) == [people["editing_reviewer"]]
    approve(client, people["editing_reviewer"], english)  # did not write the English change
    approve(client, people["editing_reviewer"], welsh, status=403)


def test_the_pinned_revision_goes_live_even_if_edited_after_submission(client, people, page):
    edit(client, people["editor"], page, title_en="Glucagonoma: approved wording")
    submit(client, people["editor"], page, "en")
    review = open_request(page)
    edit(client, people["editor2"], page, title_en="Glucagonoma: unreviewed wording")
    approve(client, people["reviewer"], review)
    edit(client, people["editor2"], page, title_en="Glucagonoma: even later wording")
    publish_in_admin(client, people["publisher"], review)
    html = public_text(client, "en")
    assert "Glucagonoma: approved wording" in html
    assert "unreviewed" not in html and "even later" not in html
    assert LiveSnapshot.objects.get(page=page, language="en").revision == review.revision
    # The working copy still holds the newer draft beside the live version.
    listing = as_user(client, people["editor"]).get("/admin/pages/page/").content.decode()
    assert "en: live, with a newer draft" in listing


def test_review_dates_default_to_the_pages_interval_and_are_validated(client, people, page):
    page.review_interval_months = 12
    with edited():
        page.save()
    submit(client, people["editor"], page, "en")
    review = open_request(page)
    screen = as_user(client, people["reviewer"]).get(f"/admin/pages/page/{page.pk}/workflow/review/{review.pk}/")
    assert 'value="2027-11-25"' in screen.content.decode()

    for dates, error in [
        ({"last_reviewed": "2026-10-01", "next_review_due": "2026-11-01"}, "cannot be due today or in the past"),
        ({"last_reviewed": "2027-01-01", "next_review_due": "2028-01-01"}, "cannot be in the future"),
        ({"last_reviewed": "2026-11-20", "next_review_due": "2026-11-20"}, "must come after"),
        ({"next_review_due": "25/11/2029"}, "Enter a valid date"),
        # Defect: 31 Dec 9999 and 1 Jan 1990 were accepted and published.
        ({"last_reviewed": "2026-11-25", "next_review_due": "9999-12-31"}, "at most 12 months after this review"),
        ({"last_reviewed": "2026-11-25", "next_review_due": "2027-11-26"}, "at most 12 months after this review"),
        ({"last_reviewed": "1990-01-01", "next_review_due": "2026-12-01"}, "before the wording it signs off"),
        ({"last_reviewed": "2026-11-24", "next_review_due": "2027-05-20"}, "before the wording it signs off"),
    ]:
        response = approve(client, people["reviewer"], review, status=400, **dates)
        assert error in response.content.decode()
        assert open_request(page).state == State.IN_REVIEW

    approve(client, people["reviewer"], review, last_reviewed="2026-11-25", next_review_due="2027-05-20")
    review.refresh_from_db()
    assert (review.last_reviewed, review.next_review_due) == (datetime.date(2026, 11, 25), datetime.date(2027, 5, 20))


def test_requesting_changes_needs_a_comment_and_tells_the_author(
    client, people, page, django_capture_on_commit_callbacks
):
    edit(client, people["editor"], page, title_en="Glucagonoma, draft")
    submit(client, people["editor"], page, "en")
    review = open_request(page)
    url = f"/admin/pages/page/{page.pk}/workflow/review/{review.pk}/"
    mail.outbox.clear()
    response = as_user(client, people["reviewer"]).post(url, {"request_changes": "1", "comment": " "})
    assert "Say what needs to change" in response.content.decode()
    assert open_request(page).state == State.IN_REVIEW
    with django_capture_on_commit_callbacks(execute=True):
        as_user(client, people["reviewer"]).post(
            url, {"request_changes": "1", "comment": "Add the dose of octreotide."}
        )
    assert open_request(page).state == State.CHANGES_REQUESTED
    [message] = mail.outbox
    assert message.to == [people["editor"].email]
    assert "Add the dose of octreotide." in message.body
    logged = Transition.objects.get(action="request_changes")
    assert logged.comment == "Add the dose of octreotide." and logged.user == people["reviewer"]
    # The editor fixes it and submits again; the old request is superseded, not lost.
    edit(client, people["editor"], page, summary_en="Rare. Octreotide 100 micrograms.")
    submit(client, people["editor"], page, "en")
    assert list(ReviewRequest.objects.filter(page=page).order_by("pk").values_list("state", flat=True)) == [
        State.SUPERSEDED,
        State.IN_REVIEW,
    ]


def test_submitting_refuses_what_cannot_be_reviewed(client, people, page):
    publish_fixture(page, "en")
    response = submit(client, people["editor"], page, "en")
    assert "is not newer than the live" in messages_of(response)[-1]
    response = submit(client, people["editor"], page, "ar")
    assert "has no title in العربيّة" in messages_of(response)[-1]
    response = as_user(client, people["editor"]).post(f"/admin/pages/page/{page.pk}/workflow/submit/", {})
    assert "Choose at least one language" in messages_of(response)[-1]
    assert not ReviewRequest.objects.exists() and not Transition.objects.exists()


def test_nothing_changed_in_a_language_is_not_sent_for_review(client, people, page):
    publish_fixture(page, "en", "cy")
    edit(client, people["editor"], page, title_en="Glucagonoma (new)")
    response = submit(client, people["editor"], page, "cy")
    assert "Nothing in the Cymraeg wording has changed" in messages_of(response)[-1]
    assert not ReviewRequest.objects.exists()


def test_reviewed_no_change_needed_renews_dates_only(client, people, page):
    publish_fixture(page, "en", last_reviewed=datetime.date(2023, 11, 1), next_review_due=datetime.date(2026, 11, 1))
    before = LiveSnapshot.objects.get(page=page, language="en")
    edit(client, people["editor"], page, title_en="Glucagonoma, unreviewed draft")
    url = f"/admin/pages/page/{page.pk}/workflow/reconfirm/en/"
    assert as_user(client, people["editor"]).get(url).status_code == 403
    assert as_user(client, people["editor"]).post(url, {}).status_code == 403
    response = as_user(client, people["reviewer"]).post(
        url, {"last_reviewed": "2026-11-25", "next_review_due": "2026-11-24"}
    )
    assert response.status_code == 400 and "must come after" in response.content.decode()
    response = as_user(client, people["reviewer"]).post(
        url, {"last_reviewed": "2026-11-25", "next_review_due": "2029-11-25", "comment": "Checked against NICE."}
    )
    assert response.status_code == 302
    after = LiveSnapshot.objects.get(page=page, language="en")
    assert after.source == before.source and after.revision == before.revision
    assert (after.last_reviewed, after.next_review_due) == (TODAY, datetime.date(2029, 11, 25))
    assert after.signed_off_by == "Dr Rhys Evans"
    html = public_text(client, "en")
    assert "unreviewed draft" not in html and '"2029-11-25">25 November 2029</time>' in html
    logged = Transition.objects.get(action="reconfirm")
    assert (logged.user, logged.languages, logged.comment) == (people["reviewer"], ["en"], "Checked against NICE.")


def test_a_publisher_withdraws_a_page_and_its_address_answers_410(client, people, page):
    publish_fixture(page, "en", "cy")
    url = f"/admin/pages/page/{page.pk}/workflow/withdraw/"
    assert as_user(client, people["reviewer"]).post(url, {"reason": "Recall"}).status_code == 403
    response = as_user(client, people["publisher"]).post(url, {"reason": ""})
    assert response.status_code == 400 and LiveSnapshot.objects.filter(withdrawn_at__isnull=True).count() == 2
    reason = "Dosage guidance under urgent review after a safety alert."
    assert as_user(client, people["publisher"]).post(url, {"reason": reason}).status_code == 302
    client.logout()
    for language in ("en", "cy", "ar"):
        response = client.get(f"/{language}/glucagonoma/")
        assert response.status_code == 410
        assert reason in response.content.decode()
        assert "Surgery" not in response.content.decode()
    assert "Glucagonoma" not in client.get("/en/").content.decode()
    logged = Transition.objects.get(action="withdraw")
    assert (logged.user, logged.languages, logged.comment) == (people["publisher"], ["cy", "en"], reason)
    # History keeps everything: the snapshots are still there, marked withdrawn.
    assert LiveSnapshot.objects.filter(page=page, withdrawn_at__isnull=False).count() == 2


def test_a_withdrawn_page_comes_back_only_through_a_new_sign_off(client, people, page):
    publish_fixture(page, "en")
    services.withdraw(page=page, user=people["publisher"], reason="Recall")
    edit(client, people["editor"], page, summary_en="Corrected after the recall.")
    submit(client, people["editor"], page, "en")
    approve(client, people["reviewer"], open_request(page))
    publish_in_admin(client, people["publisher"], open_request(page))
    client.logout()
    response = client.get("/en/glucagonoma/")
    assert response.status_code == 200 and "Corrected after the recall." in response.content.decode()


def test_a_setting_can_require_a_third_person_to_publish(client, people, page, settings):
    settings.REVIEW_REQUIRE_THIRD_PERSON = True
    both = UserFactory(username="rp", roles=[roles.CLINICAL_REVIEWER, roles.PUBLISHER])
    edit(client, people["editor"], page, title_en="Glucagonoma, revised")
    submit(client, people["editor"], page, "en")
    approve(client, both, open_request(page))
    publish_in_admin(client, both, open_request(page), status=403)
    assert open_request(page).state == State.APPROVED
    publish_in_admin(client, people["publisher"], open_request(page))
    assert open_request(page).state == State.PUBLISHED


def test_publishing_an_older_approval_after_a_newer_one_went_live_is_refused(client, people, page):
    edit(client, people["editor"], page, title_en="Glucagonoma v2")
    submit(client, people["editor"], page, "en")
    older = open_request(page)
    approve(client, people["reviewer"], older)
    edit(client, people["editor"], page, title_en="Glucagonoma v3")
    submit(client, people["editor"], page, "en")
    newer = open_request(page)
    approve(client, people["reviewer"], newer)
    publish_in_admin(client, people["publisher"], newer)
    older.refresh_from_db()
    assert older.state == State.SUPERSEDED
    response = publish_in_admin(client, people["publisher"], older)
    assert "cannot be published" in messages_of(response)[-1]
    assert "Glucagonoma v3" in public_text(client, "en")


def test_the_review_screen_shows_the_diff_against_live_and_a_never_cached_preview(client, people, page):
    publish_fixture(page, "en", "cy")
    edit(client, people["editor"], page, title_cy="Glwcagonoma prin")
    submit(client, people["editor"], page, "cy")
    review = open_request(page, "cy")
    screen = as_user(client, people["reviewer"]).get(f"/admin/pages/page/{page.pk}/workflow/review/{review.pk}/")
    html = screen.content.decode()
    assert re.search(r"<ins><span class=\"diff-label\">added: </span>\s*prin\s*<span", html)
    preview_url = f"/admin/pages/page/{page.pk}/preview/{review.revision.number}/cy/"
    assert preview_url in html
    preview = client.get(preview_url)
    assert preview.status_code == 200
    assert "Glwcagonoma prin" in preview.content.decode()
    assert 'lang="cy"' in preview.content.decode()
    assert "no-cache" in preview["Cache-Control"] and "private" in preview["Cache-Control"]
    assert preview["X-Robots-Tag"] == "noindex, nofollow"
    client.logout()
    assert client.get(preview_url).status_code == 302  # to the login page
    assert "Glwcagonoma prin" not in client.get("/cy/glucagonoma/").content.decode()


def test_page_list_shows_states_and_filters_queues(client, people, page):
    other = PageFactory(slug="insulinoma", title_en="Insulinoma")
    edit(client, people["editor"], page, title_en="Glucagonoma, revised")
    submit(client, people["editor"], page, "en")
    listing = as_user(client, people["reviewer"]).get("/admin/pages/page/?workflow=mine").content.decode()
    assert "Glucagonoma, revised" in listing and "Insulinoma" not in listing
    assert "en: in review" in listing
    assert (
        "Glucagonoma" not in as_user(client, people["editor"]).get("/admin/pages/page/?workflow=mine").content.decode()
    )
    services.approve(request=open_request(page), user=people["reviewer"])
    listing = as_user(client, people["publisher"]).get("/admin/pages/page/?workflow=approved").content.decode()
    assert "Glucagonoma, revised" in listing and "Insulinoma" not in listing
    listing = as_user(client, people["publisher"]).get("/admin/pages/page/?workflow=mine").content.decode()
    assert "Glucagonoma, revised" in listing
    assert other.title_en in as_user(client, people["editor"]).get("/admin/pages/page/").content.decode()


def test_the_log_is_immutable_everywhere(client, people, page):
    submit(client, people["editor"], page, "en")
    step = Transition.objects.get()
    for user in (people["editor"], people["reviewer"], people["superuser"]):
        as_user(client, user)
        assert client.post(f"/admin/review/transition/{step.pk}/change/", {"comment": "x"}).status_code == 403
        assert client.post(f"/admin/review/transition/{step.pk}/delete/", {"post": "yes"}).status_code == 403
    step.comment = "rewritten"
    with pytest.raises(TypeError):
        step.save()
    with pytest.raises(TypeError):
        step.delete()
    assert Transition.objects.get().comment == "Please check."


def test_the_ledger_lists_sign_offs_and_exports_them_as_csv(client, people, page):
    edit(client, people["editor"], page, title_en="Glucagonoma, revised")
    edit(client, people["editor2"], page, summary_en="Rare; =cmd|' /C calc'!A0")
    submit(client, people["editor"], page, "en")
    approve(client, people["reviewer"], open_request(page), comment='=HYPERLINK("evil")')
    publish_in_admin(client, people["publisher"], open_request(page))
    second = PageFactory(slug="insulinoma", title_en="Insulinoma")
    services.submit(page=second, languages=["en"], user=people["editor"])
    services.approve(request=open_request(second), user=people["editing_reviewer"])

    assert as_user(client, people["editor"]).get("/admin/review/reviewrequest/").status_code == 403
    assert client.get("/admin/review/reviewrequest/export.csv").status_code == 403
    listing = as_user(client, people["reviewer"]).get("/admin/review/reviewrequest/").content.decode()
    assert "/glucagonoma/" in listing and "/insulinoma/" in listing

    export = client.get(f"/admin/review/reviewrequest/export.csv?person={people['publisher'].pk}")
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(streamed(export))))
    assert len(rows) == 1
    [row] = rows
    assert row["page"] == "/glucagonoma/" and row["language"] == "en"
    assert row["authors"] == "Eleri Jones; owain"
    assert (row["reviewer"], row["publisher"]) == ("Dr Rhys Evans", "pat")
    assert (row["last reviewed"], row["next review due"]) == ("2026-11-25", "2029-11-25")
    assert row["comment"] == '\'=HYPERLINK("evil")'  # never a live formula in a spreadsheet
    everything = list(csv.DictReader(io.StringIO(streamed(client.get("/admin/review/reviewrequest/export.csv")))))
    assert [r["page"] for r in everything] == ["/glucagonoma/", "/insulinoma/"]
    welsh = streamed(client.get("/admin/review/reviewrequest/export.csv?language=cy"))
    assert len(welsh.strip().splitlines()) == 1  # the header only


def test_emails_go_to_the_right_people_in_their_language(client, people, page, django_capture_on_commit_callbacks):
    Profile.objects.create(user=people["reviewer"], language="cy")
    mail.outbox.clear()
    edit(client, people["editor"], page, title_en="Glucagonoma, revised")
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, people["editor"], page, "en")
    recipients = sorted(address for message in mail.outbox for address in message.to)
    # Reviewers who may approve it; not the author, even though she is a reviewer too.
    assert recipients == sorted([people["reviewer"].email, people["editing_reviewer"].email])
    welsh = next(m for m in mail.outbox if m.to == [people["reviewer"].email])
    assert welsh.subject == "I’w adolygu’n glinigol: “Glucagonoma, revised” (English)"
    assert f"/admin/pages/page/{page.pk}/workflow/review/{open_request(page).pk}/" in welsh.body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approve(client, people["reviewer"], open_request(page))
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {people["editor"].email, people["publisher"].email}
    assert "has approved revision" in by_recipient[people["editor"].email].body
    assert "waiting to be published" in by_recipient[people["publisher"].email].body


def test_a_mail_failure_never_breaks_a_step_and_is_retried(
    client, people, page, settings, caplog, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2}}}  # fmt: skip
    edit(client, people["editor"], page, title_en="Glucagonoma, revised")
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client, people["editor"], page, "en")
    assert "is in review" in messages_of(response)[-1]
    assert open_request(page).state == State.IN_REVIEW
    assert "Could not send" in caplog.text
    waiting = Notification.objects.filter(sent_at__isnull=True)
    assert waiting.count() == 2 and all(n.attempts == 1 and n.last_error for n in waiting)

    with pytest.raises(CommandError, match="2 e-mail"):
        call_command("send_notifications", stdout=io.StringIO())
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    mail.outbox.clear()
    out = io.StringIO()
    call_command("send_notifications", stdout=out)
    assert "2 waiting: 2 sent, 0 failed" in out.getvalue()
    assert len(mail.outbox) == 2 and not Notification.objects.filter(sent_at__isnull=True).exists()
    call_command("send_notifications", stdout=io.StringIO())
    assert len(mail.outbox) == 2  # sent once


def test_publish_command_publishes_the_approved_version_only(people, page):
    with pytest.raises(CommandError, match="needs sign-off first"):
        call_command("publish_page", "glucagonoma", "--language", "en", "--by", "pat")
    services.submit(page=page, languages=["en"], user=people["editor"])
    services.approve(request=open_request(page), user=people["reviewer"])
    with pytest.raises(CommandError, match="permission to publish"):
        call_command("publish_page", "glucagonoma", "--language", "en", "--by", "eleri")
    for arguments, error in [
        (["nowhere", "--language", "en", "--by", "pat"], "No page at 'nowhere'"),
        (["glucagonoma", "--language", "xx", "--by", "pat"], "Unknown language xx"),
        (["glucagonoma", "--language", "en", "--by", "ghost"], "No user 'ghost'"),
    ]:
        with pytest.raises(CommandError, match=error):
            call_command("publish_page", *arguments)
    out = io.StringIO()
    call_command("publish_page", "glucagonoma", "--language", "en", "--by", "pat", stdout=out)
    assert "Live: /en/glucagonoma/ (revision" in out.getvalue()
    assert LiveSnapshot.objects.get(page=page, language="en").published_by == people["publisher"]


def test_roles_hold_the_workflow_permissions(people):
    assert people["editor"].has_perm("review.submit_for_review") and not people["editor"].has_perm("review.sign_off")
    assert people["reviewer"].has_perm("review.sign_off") and not people["reviewer"].has_perm("review.publish")
    assert people["publisher"].has_perm("review.publish") and people["publisher"].has_perm("review.withdraw")
    assert not people["publisher"].has_perm("review.sign_off")


def test_unknown_requests_and_languages_are_not_found(client, people, page):
    as_user(client, people["reviewer"])
    assert client.get(f"/admin/pages/page/{page.pk}/workflow/review/999/").status_code == 404
    assert client.get(f"/admin/pages/page/{page.pk}/workflow/reconfirm/xx/").status_code == 404
    assert client.get(f"/admin/pages/page/{page.pk}/preview/1/xx/").status_code == 404
    assert client.get(f"/admin/pages/page/{page.pk}/preview/99/en/").status_code == 404
    assert (
        re.search(r"Reviewed, no change needed", client.get(f"/admin/pages/page/{page.pk}/change/").content.decode())
        is None
    )


def test_the_history_marks_sign_offs_and_publications(client, people, page):
    edit(client, people["editor"], page, title_en="Glucagonoma, revised")
    services.submit(page=page, languages=["en"], user=people["editor"])
    services.approve(request=open_request(page), user=people["reviewer"])
    services.publish(request=open_request(page), user=people["publisher"])
    html = as_user(client, people["editor"]).get(f"/admin/pages/page/{page.pk}/history/").content.decode()
    assert "en: approved by Dr Rhys Evans (published)" in html
    assert "live now: en" in html


def test_publishing_refusals_keep_their_type_and_speak_the_persons_language(people, page):
    from django.utils import translation

    from pages.errors import NotTranslated, UnknownLanguage
    from review.errors import CannotPublish

    with pytest.raises(CannotPublish) as refused:
        services.submit(page=page, languages=["ar"], user=people["editor"])
    assert isinstance(refused.value, services.WorkflowError) and isinstance(refused.value.error, NotTranslated)
    with translation.override("cy"), pytest.raises(CannotPublish) as refused:
        services.submit(page=page, languages=["xx"], user=people["editor"])
    assert isinstance(refused.value.error, UnknownLanguage)
    assert str(refused.value) == "Iaith anhysbys xx: mae gan y wefan hon en, cy, ar."


def test_the_ledger_filters_sign_offs_by_the_year_they_were_approved_in(client, people, page, fixed_day):
    second = PageFactory(slug="insulinoma", title_en="Insulinoma")
    for reviewed in (page, second):
        services.submit(page=reviewed, languages=["en"], user=people["editor"])
        services.approve(request=open_request(reviewed), user=people["reviewer"])
    earlier = ReviewRequest.objects.get(page=second)
    earlier.approved_at = earlier.approved_at.replace(year=2024)
    ReviewRequest.objects.filter(pk=earlier.pk).update(approved_at=earlier.approved_at)
    as_user(client, people["reviewer"])

    listing = client.get("/admin/review/reviewrequest/").content.decode()
    assert all(f"?year={year}" in listing for year in (2024, 2025, 2026))  # every year between, newest first
    assert listing.index("?year=2026") < listing.index("?year=2024")
    in_2024 = client.get("/admin/review/reviewrequest/", {"year": "2024"}).content.decode()
    assert "/insulinoma/" in in_2024 and "/glucagonoma/" not in in_2024
    rows = list(csv.DictReader(io.StringIO(streamed(client.get("/admin/review/reviewrequest/export.csv?year=2026")))))
    assert [row["page"] for row in rows] == ["/glucagonoma/"]
    # A year no sign-off was made in, out of range or not a year lists nothing, and no error.
    for year in ("2019", "99999", "0", "-1", "twenty", "2026 "):
        response = client.get("/admin/review/reviewrequest/", {"year": year})
        assert response.status_code == 200
        html = response.content.decode()
        assert "/insulinoma/" not in html and "/glucagonoma/" not in html


def test_one_submission_in_two_languages_sends_each_reviewer_one_mail_with_the_note_and_review_links(
    client, people, page, django_capture_on_commit_callbacks
):
    Profile.objects.create(user=people["reviewer"], language="cy")
    edit(client, people["editor"], page, title_en="Glucagonoma, revised", title_cy="Glwcagonoma, diwygiedig")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        as_user(client, people["editor"]).post(
            f"/admin/pages/page/{page.pk}/workflow/submit/",
            {"languages": ["en", "cy"], "comment": "The dose in Treatment changed: please check it."},
        )
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted([people["reviewer"].email, people["editing_reviewer"].email])  # one each
    english, welsh = open_request(page, "en"), open_request(page, "cy")
    for message in mail.outbox:
        for review in (english, welsh):  # the review screen of each, not the page form
            assert f"/admin/pages/page/{page.pk}/workflow/review/{review.pk}/" in message.body
        assert f"/admin/pages/page/{page.pk}/change/" not in message.body
        assert "The dose in Treatment changed: please check it." in message.body
    in_welsh = next(m for m in mail.outbox if m.to == [people["reviewer"].email])
    assert in_welsh.subject == "I’w adolygu’n glinigol: “Glucagonoma, revised” (English, Cymraeg)"
    assert "Nodyn gan y golygydd:" in in_welsh.body


def test_the_ledger_is_named_for_what_it_lists_and_offers_only_filters_that_can_match(client, people, page):
    second = PageFactory(slug="insulinoma", title_en="Insulinoma")
    services.submit(page=page, languages=["en"], user=people["editor"])
    services.approve(request=open_request(page), user=people["reviewer"])
    services.submit(page=second, languages=["en"], user=people["editor"])  # in review: not a sign-off yet
    as_user(client, people["reviewer"])

    index = client.get("/admin/").content.decode()
    assert "Sign-offs" in index and "Review requests" not in index
    listing = client.get("/admin/review/reviewrequest/").content.decode()
    assert "1 sign-off" in listing and "review request" not in listing
    offered = set(re.findall(r"\?state__exact=(\w+)", listing))
    assert offered == {State.APPROVED, State.PUBLISHED, State.SUPERSEDED}  # the states a sign-off can be in
    assert "approved_at__isnull" not in listing  # every sign-off has its date


def test_the_ledgers_years_are_those_of_the_sites_time_zone(client, people, page, settings):
    settings.TIME_ZONE = "Pacific/Auckland"
    services.submit(page=page, languages=["en"], user=people["editor"])
    services.approve(request=open_request(page), user=people["reviewer"])
    new_year = datetime.datetime(2024, 12, 31, 12, 0, tzinfo=datetime.UTC)  # 1 a.m. on 1 January 2025 there
    ReviewRequest.objects.filter(page=page).update(approved_at=new_year)
    as_user(client, people["reviewer"])
    listing = client.get("/admin/review/reviewrequest/").content.decode()
    assert "?year=2025" in listing and "?year=2024" not in listing
    assert "/glucagonoma/" in client.get("/admin/review/reviewrequest/", {"year": "2025"}).content.decode()


def test_the_workflow_log_speaks_in_words_not_stored_values(client, people, page):
    services.submit(page=page, languages=["en", "cy"], user=people["editor"])
    services.request_changes(request=open_request(page, "cy"), user=people["reviewer"], comment="Gwiriwch.")
    html = as_user(client, people["reviewer"]).get("/admin/review/transition/").content.decode()
    assert "changes_requested" not in html and "in_review" not in html and '["en"]' not in html
    assert "changes requested" in html and "in review" in html and "Cymraeg" in html


def test_the_review_screen_shows_the_changes_and_steps_before_the_decision(client, people, page):
    services.submit(page=page, languages=["en"], user=people["editor"], comment="Please check the dose.")
    review = open_request(page)
    html = as_user(client, people["reviewer"]).get(f"/admin/pages/page/{page.pk}/workflow/review/{review.pk}/")
    html = html.content.decode()
    changes, note, decision = (
        html.index("The whole text"),
        html.index("Please check the dose."),
        html.index("Your decision"),
    )
    assert changes < decision and note < decision


def test_the_reconfirm_screen_shows_the_live_wording_and_links_to_it(client, people, page):
    publish_fixture(page, "cy")
    html = as_user(client, people["reviewer"]).get(f"/admin/pages/page/{page.pk}/workflow/reconfirm/cy/")
    html = html.content.decode()
    assert "Llawdriniaeth." in html and "Triniaeth" in html  # the Welsh wording that is live
    assert 'href="/cy/glucagonoma/"' in html


def test_the_submit_panel_ticks_and_marks_the_languages_changed_since_live(client, people, page):
    publish_fixture(page, "en", "cy")
    edit(client, people["editor"], page, summary_cy="Prin iawn.")  # Welsh only
    html = as_user(client, people["editor"]).get(f"/admin/pages/page/{page.pk}/change/").content.decode()
    boxes = dict(re.findall(r'<input type="checkbox" name="languages" value="(\w+)"([^>]*)>', html))
    assert "checked" in boxes["cy"] and "checked" not in boxes.get("en", "")
    assert "Cymraeg (changed since the live version)" in html and "English (changed" not in html


def test_dates_are_written_one_way_on_every_screen_in_each_language(client, people, page, fixed_day):
    publish_fixture(page, "en", last_reviewed=datetime.date(2026, 11, 1), next_review_due=datetime.date(2029, 11, 1))
    edit(client, people["editor"], page, summary_en="Rare; revised.")
    as_user(client, people["editor"])
    listing = client.get("/admin/pages/page/").content.decode()
    assert "25 November 2026, 10:00" in listing and "Nov. 25" not in listing  # the list's "updated"
    assert "1 November 2029" in listing  # the review due
    form = client.get(f"/admin/pages/page/{page.pk}/change/").content.decode()
    assert "review due 1 November 2029" in form
    welsh = client.get("/admin/pages/page/", HTTP_ACCEPT_LANGUAGE="cy").content.decode()
    assert "25 Tachwedd 2026, 10:00" in welsh


def test_the_page_list_says_newer_draft_only_for_the_languages_that_changed(client, people, page):
    publish_fixture(page, "en", "cy")
    edit(client, people["editor"], page, summary_cy="Prin iawn.")  # Welsh only
    html = as_user(client, people["editor"]).get("/admin/pages/page/").content.decode()
    assert "cy: live, with a newer draft" in html
    assert "en: live;" in html or "en: live<" in html
    assert "en: live, with a newer draft" not in html


def test_a_new_owner_or_a_move_is_no_newer_draft_but_reordered_sections_are_in_every_language(client, people):
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", title_cy="Glwcagonoma")
    first = SectionFactory(page=page, position=0, heading_en="Symptoms", heading_cy="Symptomau")
    second = SectionFactory(page=page, position=1, heading_en="Treatment", heading_cy="Triniaeth")
    publish_fixture(page, "en", "cy")

    def states():
        html = as_user(client, people["editor"]).get("/admin/pages/page/").content.decode()
        return {code: f"{code}: live, with a newer draft" in html for code in ("en", "cy")}

    edit(client, people["editor"], page, owner=people["editor2"].pk)
    services.move(
        page=page, parent=None, slug="glucagonoma-tumour", position=0, user=people["publisher"], comment="Clearer."
    )
    assert states() == {"en": False, "cy": False}
    page.refresh_from_db()
    edit(client, people["editor"], page, **{"sections-0-position": "1", "sections-1-position": "0"})
    assert [s.pk for s in page.sections.order_by("position")] == [second.pk, first.pk]
    assert states() == {"en": True, "cy": True}


def test_the_workflow_screens_have_the_admins_own_breadcrumbs(client, people, page):
    services.submit(page=page, languages=["en"], user=people["editor"])
    publish_fixture(PageFactory(slug="live", title_en="Live"), "en")
    as_user(client, people["reviewer"])
    for url in (
        f"/admin/pages/page/{page.pk}/workflow/review/{open_request(page).pk}/",
        f"/admin/pages/page/{page.pk}/history/",
        "/admin/pages/page/reviews-due/",
    ):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert '<ol class="breadcrumbs">' in html and '<div class="breadcrumbs">' not in html, url
        assert '<li aria-current="page">' in html, url


def test_a_new_owner_alone_ticks_no_language_in_the_submit_panel(client, people, page):
    publish_fixture(page, "en", "cy")
    edit(client, people["editor"], page, owner=people["editor2"].pk)  # changes no wording
    html = as_user(client, people["editor"]).get(f"/admin/pages/page/{page.pk}/change/").content.decode()
    boxes = dict(re.findall(r'<input type="checkbox" name="languages" value="(\w+)"([^>]*)>', html))
    assert [code for code, attributes in boxes.items() if "checked" in attributes] == []
    assert "changed since the live version" not in html


@pytest.mark.parametrize("language", ["en", "cy", "ar"])
def test_the_proposed_review_dates_fill_the_date_fields_in_every_language(client, people, page, fixed_day, language):
    # A date field takes only YYYY-MM-DD; "25/11/2026" left the Welsh fields empty, and the browser refused to approve.
    submit(client, people["editor"], page, "en")
    review = open_request(page)
    url = f"/admin/pages/page/{page.pk}/workflow/review/{review.pk}/"
    html = as_user(client, people["reviewer"]).get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert 'type="date" name="last_reviewed" value="2026-11-25"' in html
    assert 'type="date" name="next_review_due" value="2029-11-25"' in html
