"""Review reminders through the real command: lead times, weekly overdue
reminders, one digest per owner, exactly once (also across concurrent runs on
PostgreSQL), retries after failures, dry runs, and constant queries."""

import datetime
import io
import threading

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from pages.models import LiveSnapshot, Page
from review import reminders, roles
from review.models import Profile, Reminder
from tests.factories import PageFactory, UserFactory, publish_fixture

pytestmark = pytest.mark.django_db

DUE = datetime.date(2027, 3, 11)
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
BROKEN_SMTP = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
    }
}


def on(day: datetime.date):
    """Freeze the clock at 07:00 on ``day``, when a daily job would run."""
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(7, 0), tzinfo=datetime.UTC), tick=False)


def remind(*options) -> str:
    out = io.StringIO()
    call_command("send_review_reminders", *options, stdout=out)
    return out.getvalue()


def live_page(slug, owner=None, due=DUE, languages=("en",), **titles):
    page = PageFactory(slug=slug, owner=owner, title_en=titles.get("title_en", slug.title()), **titles)
    publish_fixture(page, *languages, last_reviewed=due.replace(year=due.year - 3), next_review_due=due)
    return page


@pytest.mark.parametrize(
    ("days_before_due", "kind"),
    [(61, None), (60, "before-60"), (15, "before-60"), (14, "before-14"), (1, "before-14"), (0, "due"),
     (-6, "due"), (-7, "overdue-1"), (-13, "overdue-1"), (-14, "overdue-2"), (-70, "overdue-10")],
)  # fmt: skip
def test_kind_of_reminder(days_before_due, kind):
    today = DUE - datetime.timedelta(days=days_before_due)
    assert reminders.kind_of(DUE, today, [60, 14]) == kind


def test_reminders_go_at_each_lead_time_on_the_due_date_and_weekly_after(settings):
    owner = UserFactory(username="olwen", first_name="Olwen")
    live_page("glucagonoma", owner=owner)
    sent_on = {}
    day = DUE - datetime.timedelta(days=70)
    while day <= DUE + datetime.timedelta(days=22):
        mail.outbox.clear()
        with on(day):
            remind()
        if mail.outbox:
            [message] = mail.outbox
            sent_on[(day - DUE).days] = message
        day += datetime.timedelta(days=1)
    assert sorted(sent_on) == [-60, -14, 0, 7, 14, 21]
    assert "Review due 11 March 2027" in sent_on[-60].body
    assert "overdue by 14 days" in sent_on[14].body
    assert sent_on[0].to == [owner.email]
    assert f"/admin/pages/page/{Page.objects.get().pk}/change/" in sent_on[0].body
    assert Reminder.objects.filter(status=Reminder.Status.SENT).count() == 6


def test_a_missed_day_still_sends_the_reminder_of_that_period():
    live_page("glucagonoma", owner=UserFactory(username="olwen"))
    with on(DUE - datetime.timedelta(days=50)):  # the job did not run on day -60
        remind()
    assert len(mail.outbox) == 1 and Reminder.objects.get().kind == "before-60"


def test_one_digest_per_owner_and_the_fallback_for_pages_nobody_can_receive(settings):
    settings.REVIEW_REMINDER_FALLBACK_EMAIL = "clinical-lead@example.org"
    olwen = UserFactory(username="olwen", first_name="Olwen", last_name="Price")
    bryn = UserFactory(username="bryn")
    Profile.objects.create(user=bryn, language="cy")
    no_address = UserFactory(username="gone", email="")
    live_page("glucagonoma", owner=olwen, languages=("en", "cy"), title_cy="Glwcagonoma")
    live_page("insulinoma", owner=olwen, due=DUE + datetime.timedelta(days=5))
    live_page("gastrinoma", owner=bryn, title_cy="Gastrinoma (cy)")
    live_page("vipoma", owner=None)
    live_page("somatostatinoma", owner=no_address)
    live_page("far-off", owner=olwen, due=DUE + datetime.timedelta(days=400))
    with on(DUE - datetime.timedelta(days=10)):
        out = remind("--verbosity", "2")
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {olwen.email, bryn.email, "clinical-lead@example.org"}
    olwen_mail = by_recipient[olwen.email].body
    assert olwen_mail.startswith("Hello Olwen Price,")
    assert "/en/glucagonoma/" in olwen_mail and "/cy/glucagonoma/" in olwen_mail and "/en/insulinoma/" in olwen_mail
    assert "far-off" not in olwen_mail
    assert olwen_mail.index("/en/glucagonoma/") < olwen_mail.index("/en/insulinoma/")  # soonest first
    assert by_recipient[olwen.email].subject == "Clinical review reminder: 3 pages"
    lead = by_recipient["clinical-lead@example.org"].body
    assert "/en/vipoma/" in lead and "/en/somatostatinoma/" in lead
    assert by_recipient[bryn.email].subject == "Nodyn atgoffa adolygiad clinigol: 1 dudalen"
    assert "6 reminder(s) due; 3 e-mail(s) sent, 0 failed" in out


def test_pages_with_no_address_at_all_are_reported_not_dropped(settings):
    settings.REVIEW_REMINDER_FALLBACK_EMAIL = ""
    live_page("vipoma", owner=None)
    live_page("glucagonoma", owner=UserFactory(username="olwen"))
    out = io.StringIO()
    with on(DUE), pytest.raises(CommandError, match="not sent"):
        call_command("send_review_reminders", stdout=out)
    assert "NO ADDRESS: /en/vipoma/" in out.getvalue()
    assert "1 with no address (set REVIEW_REMINDER_FALLBACK_EMAIL)" in out.getvalue()
    assert len(mail.outbox) == 1  # the owner's reminder still went


def test_the_same_day_twice_sends_nothing_more():
    live_page("glucagonoma", owner=UserFactory(username="olwen"))
    with on(DUE):
        remind()
        out = remind()
    assert len(mail.outbox) == 1
    assert "1 reminder(s) due; 0 e-mail(s) sent, 0 failed; 1 already sent earlier." in out


def test_a_failed_send_is_retried_by_the_next_run_and_not_recorded_as_sent(settings):
    live_page("glucagonoma", owner=UserFactory(username="olwen"))
    settings.MAILERS = BROKEN_SMTP
    out = io.StringIO()
    with on(DUE), pytest.raises(CommandError, match="retried on the next run"):
        call_command("send_review_reminders", stdout=out)
    assert "FAILED to send" in out.getvalue()
    failed = Reminder.objects.get()
    assert failed.status == Reminder.Status.FAILED and failed.sent_at is None and failed.last_error
    settings.MAILERS = LOCMEM
    with on(DUE + datetime.timedelta(days=1)):
        remind()
    assert len(mail.outbox) == 1
    sent = Reminder.objects.get()
    assert (sent.status, sent.attempts, sent.kind) == (Reminder.Status.SENT, 2, "due")


def test_a_failed_reminder_for_a_review_since_renewed_is_dropped(settings):
    page = live_page("glucagonoma", owner=UserFactory(username="olwen"))
    settings.MAILERS = BROKEN_SMTP
    with on(DUE), pytest.raises(CommandError):
        remind()
    LiveSnapshot.objects.filter(page=page).update(next_review_due=DUE.replace(year=2030))
    settings.MAILERS = LOCMEM
    with on(DUE + datetime.timedelta(days=1)):
        remind()
    assert not mail.outbox and not Reminder.objects.exists()


def test_dry_run_prints_and_sends_and_records_nothing():
    live_page("glucagonoma", owner=UserFactory(username="olwen"))
    with on(DUE):
        out = remind("--dry-run", "--verbosity", "2")
    assert "would send to olwen@example.org: 1 page version(s)" in out
    assert "2027-03-11 due         /en/glucagonoma/" in out
    assert "dry run: would send 1 e-mail(s); nothing sent or recorded." in out
    assert not mail.outbox and not Reminder.objects.exists()


def test_date_option_acts_as_if_on_that_day_and_rejects_bad_dates():
    live_page("glucagonoma", owner=UserFactory(username="olwen"))
    remind("--date", "2027-01-10")
    assert Reminder.objects.get().kind == "before-60"
    with pytest.raises(CommandError, match="is not a date"):
        remind("--date", "10/01/2027")


def test_withdrawn_pages_get_no_reminders():
    page = live_page("glucagonoma", owner=UserFactory(username="olwen"))
    LiveSnapshot.objects.filter(page=page).update(withdrawn_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
    with on(DUE):
        remind()
    assert not mail.outbox


def make_due_pages(count: int, owners: int) -> None:
    """``count`` live page versions due today, spread over ``owners`` owners (fast: no history)."""
    people = [UserFactory(username=f"owner{n}") for n in range(owners)]
    pages = Page.objects.bulk_create(
        Page(slug=f"p{n}", path=f"p{n}", title_en=f"Page {n}", owner=people[n % owners]) for n in range(count)
    )
    published = datetime.datetime(2024, 3, 11, tzinfo=datetime.UTC)
    LiveSnapshot.objects.bulk_create(
        LiveSnapshot(
            page=page,
            language="en",
            path=page.path,
            title=page.title_en,
            last_reviewed=DUE.replace(year=2024),
            next_review_due=DUE,
            signed_off_by="Dr A",
            published_at=published,
        )
        for page in pages
    )


# Whether a scheduled step is due (none here); due versions with their owners; their open
# reviews; take up retries; what is recorded already; record the rest; read back what this
# run recorded; what other runs hold; then for each digest, one to mark it sent and renew
# the claim on the rest: the same for 3 pages or 300.
QUERIES = 8
QUERIES_PER_DIGEST = 1


@pytest.mark.parametrize("due_pages", [3, 300])
def test_the_command_costs_the_same_queries_however_many_pages_are_due(django_assert_num_queries, due_pages):
    make_due_pages(due_pages, owners=3)
    with on(DUE), django_assert_num_queries(QUERIES + 3 * QUERIES_PER_DIGEST):
        remind()
    assert len(mail.outbox) == 3
    assert Reminder.objects.filter(status=Reminder.Status.SENT).count() == due_pages


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent runs need PostgreSQL (CI's PostgreSQL pass)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_the_same_moment_send_each_reminder_once():
    make_due_pages(200, owners=20)
    start = threading.Barrier(2)
    outcomes, errors = [], []

    def run():
        from django.db import connection as own_connection

        try:
            start.wait()
            outcomes.append(reminders.run(DUE))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            own_connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    pages_mailed = sum(message.body.count("/en/p") for message in mail.outbox)
    assert pages_mailed == 200  # every page exactly once, across both runs' digests
    # Each run counts the other's reminders as someone else's: sent already, or being sent by it.
    assert sum(outcome.already_sent + outcome.held for outcome in outcomes) == 200
    assert Reminder.objects.filter(status=Reminder.Status.SENT).count() == 200


def test_the_reviews_due_dashboard_groups_by_period_owner_and_language(client):
    olwen = UserFactory(username="olwen", first_name="Olwen", last_name="Price", roles=[roles.EDITOR])
    live_page(
        "glucagonoma", owner=olwen, due=datetime.date(2026, 11, 1), languages=("en", "cy"), title_cy="Glwcagonoma"
    )
    live_page("insulinoma", owner=None, due=datetime.date(2026, 12, 10))
    live_page("gastrinoma", owner=olwen, due=datetime.date(2027, 2, 1))
    live_page("far-off", owner=olwen, due=datetime.date(2028, 1, 1))
    client.force_login(olwen)
    with on(datetime.date(2026, 11, 25)):
        html = client.get("/admin/pages/page/reviews-due/").content.decode()
    overdue, within_30, within_60, within_90 = (
        html.split("<h2>Overdue (2)</h2>")[1].split("<h2>")[0],
        html.split("<h2>Due within 30 days (1)</h2>")[1].split("<h2>")[0],
        html.split("<h2>Due in 31 to 60 days (0)</h2>")[1].split("<h2>")[0],
        html.split("<h2>Due in 61 to 90 days (1)</h2>")[1],
    )
    assert "/glucagonoma/" in overdue and "24 days overdue" in overdue and ">cy<" in overdue
    assert "/insulinoma/" in within_30 and "no owner" in within_30
    assert "/gastrinoma/" in within_90 and "far-off" not in html and "<table>" not in within_60
    assert '<tr><th scope="row">Olwen Price</th><td>2</td><td>0</td><td>0</td><td>1</td><td>cy, en</td></tr>' in html
    client.force_login(UserFactory(username="nobody"))
    assert client.get("/admin/pages/page/reviews-due/").status_code == 403


def test_page_list_badges_and_filter_and_the_overdue_flag_on_the_form(client):
    editor = UserFactory(username="olwen", roles=[roles.EDITOR])
    late = live_page("glucagonoma", owner=editor, due=datetime.date(2026, 11, 1))
    live_page("insulinoma", owner=editor, due=datetime.date(2026, 12, 10))
    live_page("gastrinoma", owner=editor, due=datetime.date(2028, 1, 1))
    client.force_login(editor)
    with on(datetime.date(2026, 11, 25)):
        listing = client.get("/admin/pages/page/").content.decode()
        overdue_only = client.get("/admin/pages/page/?review=overdue").content.decode()
        within_30 = client.get("/admin/pages/page/?review=30").content.decode()
        form = client.get(f"/admin/pages/page/{late.pk}/change/").content.decode()
    assert '<span class="review-badge overdue">1 November 2026 · overdue</span>' in listing
    assert '<span class="review-badge due-soon">10 December 2026 · due soon</span>' in listing
    assert "Glucagonoma" in overdue_only and "Insulinoma" not in overdue_only and "Gastrinoma" not in overdue_only
    assert "Glucagonoma" in within_30 and "Insulinoma" in within_30 and "Gastrinoma" not in within_30
    assert "Clinical review overdue: English (due 1 November 2026)" in form


def test_each_language_has_its_own_review_dates_and_the_page_shows_those_read(client):
    page = live_page(
        "glucagonoma", owner=UserFactory(username="olwen"), due=datetime.date(2028, 3, 11), title_cy="Glwcagonoma"
    )
    publish_fixture(page, "cy", last_reviewed=datetime.date(2026, 6, 1), next_review_due=datetime.date(2029, 6, 1))
    english = client.get("/en/glucagonoma/").content.decode()
    welsh = client.get("/cy/glucagonoma/").content.decode()
    arabic = client.get("/ar/glucagonoma/").content.decode()  # not translated: reads the English version
    assert '<time datetime="2028-03-11">' in english and "2029-06-01" not in english
    assert '<time datetime="2029-06-01">' in welsh and '<time datetime="2026-06-01">' in welsh
    assert '<time datetime="2028-03-11">' in arabic
    with on(datetime.date(2028, 3, 11)):
        remind("--verbosity", "0")
    assert [(r.language, r.kind) for r in Reminder.objects.all()] == [("en", "due")]
