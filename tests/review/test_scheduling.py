"""Publishing and withdrawing at a time to come, through the admin's real views and
the commands cron runs: taken when due by the step itself, logged, refused when
the approval was superseded, the page withdrawn or the right taken away meanwhile."""

import datetime
import io
import threading

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection

from pages.models import LiveSnapshot, Page
from review import roles, scheduling, services
from review.models import ReviewRequest, ScheduledStep, State, Transition
from tests.factories import PageFactory, SectionFactory, UserFactory, publish_fixture
from tests.review.steps import approve, as_user, edit, messages_of, open_request, public_text, submit

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC)
LATER = "2026-11-26T09:30"  # in the site's time zone (Europe/London: UTC in November)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def approved_in_welsh(client, people, page):
    publish_fixture(page, "en", "cy")
    edit(client, people["editor"], page, title_cy="Glwcagonoma prin")
    submit(client, people["editor"], page, "cy")
    approve(client, people["reviewer"], open_request(page, "cy"))
    return open_request(page, "cy")


def schedule(client, user, review, at=LATER):
    return as_user(client, user).post(
        f"/admin/pages/page/{review.page_id}/workflow/schedule/{review.pk}/", {"at": at}, follow=True
    )


def run(command="send_notifications") -> str:
    out = io.StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


def test_a_publisher_schedules_a_version_and_the_frequent_job_publishes_it_when_due(client, people, page, clock):
    review = approved_in_welsh(client, people, page)
    response = schedule(client, people["publisher"], review)
    assert "Scheduled: revision" in messages_of(response)[-1]
    html = response.content.decode()
    assert "To be published at" in html and "Cancel the scheduled publishing" in html
    step = ScheduledStep.objects.get()
    assert (step.action, step.request, step.scheduled_by, step.outcome) == (
        "publish",
        review,
        people["publisher"],
        "waiting",
    )
    assert step.due_at == datetime.datetime(2026, 11, 26, 9, 30, tzinfo=datetime.UTC)
    logged = Transition.objects.get(action="schedule")
    assert (logged.user, logged.languages, logged.request) == (people["publisher"], ["cy"], review)

    # Not yet due: nothing changes, however often the job runs.
    assert "Scheduled" not in run()
    assert "Glwcagonoma prin" not in public_text(client, "cy")

    clock.move_to(datetime.datetime(2026, 11, 26, 9, 31, tzinfo=datetime.UTC))
    assert f"Scheduled publish page {page.pk} [cy], due 2026-11-26 09:30: done." in run()
    assert "Glwcagonoma prin" in public_text(client, "cy")
    step.refresh_from_db()
    review.refresh_from_db()
    assert (step.outcome, review.state, review.published_by) == ("done", State.PUBLISHED, people["publisher"])
    published = Transition.objects.get(action="publish", request=review)
    assert published.user == people["publisher"] and published.comment.startswith("Scheduled by")
    # A second run finds nothing more to do.
    assert "Scheduled" not in run()
    assert Transition.objects.filter(action="publish", request=review).count() == 1


def test_a_scheduled_version_superseded_meanwhile_is_refused_and_its_scheduler_told(client, people, page, clock):
    review = approved_in_welsh(client, people, page)
    schedule(client, people["publisher"], review)
    # Meanwhile a newer revision is signed off and published at once.
    edit(client, people["editor"], page, title_cy="Glwcagonoma prin iawn")
    submit(client, people["editor"], page, "cy")
    newer = open_request(page, "cy")
    approve(client, people["reviewer"], newer)
    services.publish(request=newer, user=people["publisher"])
    assert ReviewRequest.objects.get(pk=review.pk).state == State.SUPERSEDED
    mail.outbox.clear()

    clock.move_to(datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC))
    out = run()
    assert "refused: This request is superseded, so it cannot be published." in out
    step = ScheduledStep.objects.get()
    assert step.outcome == "refused" and "superseded" in step.note
    assert "Glwcagonoma prin iawn" in public_text(client, "cy")
    refused = Transition.objects.get(action="schedule_refused")
    assert refused.user is None and refused.request == review and "superseded" in refused.comment
    (message,) = [m for m in mail.outbox if m.subject.startswith("Not published")]
    assert message.to == [people["publisher"].email] and "superseded" in message.body


def test_a_scheduled_version_is_refused_after_a_recall(client, people, page, clock):
    review = approved_in_welsh(client, people, page)
    schedule(client, people["publisher"], review)
    services.withdraw(page=page, user=people["publisher"], reason="Safety recall")
    # The recall ends what was scheduled for the page: it is cancelled, not left to be refused.
    assert ScheduledStep.objects.get().outcome == "cancelled"
    clock.move_to(datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC))
    assert "Scheduled" not in run()
    assert client.get("/cy/glucagonoma/").status_code == 410


def test_a_scheduled_step_is_refused_when_its_scheduler_may_no_longer_publish(client, people, page, clock):
    review = approved_in_welsh(client, people, page)
    schedule(client, people["publisher"], review)
    people["publisher"].groups.clear()
    clock.move_to(datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC))
    run("send_review_reminders")
    step = ScheduledStep.objects.get()
    assert step.outcome == "refused" and "permission" in step.note
    assert "Glwcagonoma prin" not in public_text(client, "cy")


def test_only_publishers_schedule_and_cancel_and_only_by_post(client, people, page, clock):
    review = approved_in_welsh(client, people, page)
    url = f"/admin/pages/page/{page.pk}/workflow/schedule/{review.pk}/"
    for who in ("editor", "reviewer", "nobody"):
        response = as_user(client, people[who]).post(url, {"at": LATER})
        assert response.status_code in (302, 403)
        assert not ScheduledStep.objects.exists(), who
    assert as_user(client, people["publisher"]).get(url).status_code == 405
    schedule(client, people["publisher"], review)
    step = ScheduledStep.objects.get()
    cancel = f"/admin/pages/page/{page.pk}/workflow/scheduled/{step.pk}/cancel/"
    assert as_user(client, people["reviewer"]).post(cancel).status_code == 403
    assert as_user(client, people["publisher"]).get(cancel).status_code == 405
    assert ScheduledStep.objects.get().outcome == "waiting"
    response = as_user(client, people["publisher"]).post(cancel, follow=True)
    assert "Cancelled" in messages_of(response)[-1]
    assert ScheduledStep.objects.get().outcome == "cancelled"
    assert Transition.objects.filter(action="cancel_schedule", user=people["publisher"]).count() == 1
    # Cancelled is final: it neither runs nor cancels again.
    assert "already" not in as_user(client, people["publisher"]).post(cancel, follow=True).content.decode()
    assert Transition.objects.filter(action="cancel_schedule").count() == 1
    clock.move_to(datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC))
    assert "Scheduled" not in run()
    assert ReviewRequest.objects.get(pk=review.pk).state == State.APPROVED


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("2026-11-25T09:00", "Choose a time in the future"),
        ("2028-01-01T09:00", "Choose a time within a year"),
        ("tomorrow", "Choose the day and time"),
        ("", "Choose the day and time"),
        ("2026-11-26T09:30\x00", "Choose the day and time"),
    ],
)
def test_a_time_that_cannot_be_is_refused_with_a_reason(client, people, page, at, message):
    review = approved_in_welsh(client, people, page)
    response = schedule(client, people["publisher"], review, at=at)
    assert message in messages_of(response)[-1]
    assert not ScheduledStep.objects.exists()
    assert not Transition.objects.filter(action="schedule").exists()


def test_one_waiting_schedule_per_version(client, people, page):
    review = approved_in_welsh(client, people, page)
    schedule(client, people["publisher"], review)
    response = schedule(client, people["publisher"], review, at="2026-11-28T09:30")
    assert "already scheduled" in messages_of(response)[-1]
    assert ScheduledStep.objects.count() == 1


def test_a_withdrawal_with_a_reason_per_language_scheduled_and_taken_by_the_daily_job(client, people, page, clock):
    publish_fixture(page, "en", "cy")
    url = f"/admin/pages/page/{page.pk}/workflow/withdraw/"
    form = as_user(client, people["publisher"]).get(url).content.decode()
    assert 'name="reason_cy"' in form and 'lang="ar" dir="rtl"' in form and 'type="datetime-local"' in form
    response = client.post(
        url,
        {
            "reason": "Dosage guidance under review.",
            "reason_cy": "Mae'r canllawiau dos yn cael eu hadolygu.",
            "reason_ar": "",
            "at": LATER,
        },
        follow=True,
    )
    assert "will be withdrawn at" in messages_of(response)[-1]
    assert "To be withdrawn from the public site at" in response.content.decode()
    assert client.get("/en/glucagonoma/").status_code == 200

    clock.move_to(datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC))
    assert "Scheduled withdraw page" in run("send_review_reminders")
    client.logout()
    english, welsh, arabic = (client.get(f"/{code}/glucagonoma/") for code in ("en", "cy", "ar"))
    assert {english.status_code, welsh.status_code, arabic.status_code} == {410}
    assert "Dosage guidance under review." in english.content.decode()
    assert "canllawiau dos" in welsh.content.decode() and "Dosage" not in welsh.content.decode()
    # Arabic had no reason of its own: the English one, marked as English and as not translated.
    assert '<span lang="en" dir="ltr">Dosage guidance under review.</span>' in arabic.content.decode()
    logged = Transition.objects.get(action="withdraw")
    assert logged.user == people["publisher"] and "Cymraeg: Mae'r canllawiau" in logged.comment
    snapshots = dict(LiveSnapshot.objects.filter(page=page).values_list("language", "withdrawal_reason_language"))
    assert snapshots == {"en": "en", "cy": "cy"}


def test_a_withdrawal_now_keeps_each_languages_reason(client, people, page):
    publish_fixture(page, "en", "cy")
    url = f"/admin/pages/page/{page.pk}/workflow/withdraw/"
    response = as_user(client, people["publisher"]).post(url, {"reason": "Recall.", "reason_cy": "Galw'n ôl."})
    assert response.status_code == 302
    assert "Galw&#x27;n ôl." in public_text(client, "cy")
    assert not ScheduledStep.objects.exists()


def test_a_scheduled_withdrawal_needs_a_live_page_and_a_reason(client, people):
    page = PageFactory(slug="draft-only", title_en="Draft")
    url = f"/admin/pages/page/{page.pk}/workflow/withdraw/"
    response = as_user(client, people["publisher"]).post(url, {"reason": "Recall.", "at": LATER})
    assert response.status_code == 400 and "is not live" in response.content.decode()
    assert not ScheduledStep.objects.exists() and not Transition.objects.exists()


pytestmark_concurrent = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


@pytestmark_concurrent
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_once_take_each_step_once():
    publisher = UserFactory(username="pat", roles=[roles.PUBLISHER])
    reviewer = UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    editor = UserFactory(username="eleri", roles=[roles.EDITOR])
    requests = []
    for number in range(4):
        page = PageFactory(slug=f"topic-{number}", title_en=f"Topic {number}")
        SectionFactory(page=page, body_en="<p>Surgery.</p>")
        (request,) = services.submit(page=page, languages=["en"], user=editor)
        services.approve(request=request, user=reviewer)
        scheduling.schedule_publish(request=request, user=publisher, at=NOW + datetime.timedelta(minutes=5))
        requests.append(request)
    barrier, taken = threading.Barrier(2), []

    def one_run():
        try:
            barrier.wait(timeout=10)
            taken.extend(scheduling.run_due(now=NOW + datetime.timedelta(hours=1)))
        finally:
            connection.close()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ran.step.pk for ran in taken) == sorted(ScheduledStep.objects.values_list("pk", flat=True))
    assert all(not ran.refused for ran in taken)
    assert Transition.objects.filter(action="publish").count() == 4
    assert set(ReviewRequest.objects.values_list("state", flat=True)) == {State.PUBLISHED}


def test_a_step_that_cannot_be_taken_never_stops_the_others_or_the_mail(client, people, page, clock, settings):
    # A Welsh version scheduled, then Welsh taken off the site's languages: publishing it fails
    # in a way no workflow rule names. The recall scheduled after it must still happen.
    review = approved_in_welsh(client, people, page)
    schedule(client, people["publisher"], review)
    other = PageFactory(slug="insulinoma", title_en="Insulinoma")
    SectionFactory(page=other, body_en="<p>Surgery.</p>")
    publish_fixture(other, "en")
    scheduling.schedule_withdrawal(
        page=other, user=people["publisher"], at=NOW + datetime.timedelta(days=2), reason="Recall."
    )
    settings.LANGUAGES = [("en", "English"), ("ar", "Arabic")]
    clock.move_to(datetime.datetime(2026, 11, 28, tzinfo=datetime.UTC))
    out = run()
    assert "refused" in out and "withdraw page" in out and "done." in out
    assert dict(ScheduledStep.objects.values_list("action", "outcome")) == {"publish": "refused", "withdraw": "done"}
    assert LiveSnapshot.objects.get(page=other).withdrawn_at is not None
    assert "waiting:" in out  # the e-mail queue was still sent


def test_withdrawing_now_cancels_what_was_scheduled_so_a_corrected_page_stays_up(client, people, page, clock):
    publish_fixture(page, "en")
    scheduling.schedule_withdrawal(
        page=page, user=people["publisher"], at=NOW + datetime.timedelta(days=6), reason="Recall on Monday."
    )
    services.withdraw(page=page, user=people["publisher"], reason="Recall now.")
    clock.move_to(NOW + datetime.timedelta(hours=1))
    step = ScheduledStep.objects.get()
    assert step.outcome == "cancelled" and "withdrawn" in step.note
    # Corrected, signed off and published again before the old date.
    edit(client, people["editor"], page, summary_en="Corrected.")
    submit(client, people["editor"], page, "en")
    approve(client, people["reviewer"], open_request(page))
    services.publish(request=open_request(page), user=people["publisher"])
    clock.move_to(datetime.datetime(2026, 12, 5, tzinfo=datetime.UTC))
    assert "Scheduled" not in run()
    assert client.get("/en/glucagonoma/").status_code == 200


def test_a_recall_that_did_not_happen_is_told_to_everyone_who_may_withdraw_and_the_owner(client, people, page, clock):
    owner = UserFactory(username="olwen", email="olwen@example.org", roles=[roles.EDITOR])
    other_publisher = UserFactory(username="pryderi", email="pryderi@example.org", roles=[roles.PUBLISHER])
    Page.objects.filter(pk=page.pk).update(owner=owner)
    publish_fixture(page, "en")
    scheduling.schedule_withdrawal(
        page=page, user=people["publisher"], at=NOW + datetime.timedelta(days=1), reason="Recall."
    )
    people["publisher"].is_active = False  # left the service
    people["publisher"].save()
    mail.outbox.clear()
    clock.move_to(datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC))
    run()
    assert ScheduledStep.objects.get().outcome == "refused"
    refusals = [message for message in mail.outbox if message.subject.startswith("Not withdrawn")]
    told = sorted(address for message in refusals for address in message.to)
    assert told == sorted([owner.email, other_publisher.email])
    (message,) = [m for m in mail.outbox if m.to == [owner.email]]
    assert "did not happen: the page is still live" in message.body
