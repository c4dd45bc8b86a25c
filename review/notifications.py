"""E-mails about the workflow, in each recipient's language.

A step queues its e-mails as Notification rows inside its own transaction and
sends them once that transaction has committed. A send that fails is logged and
left in the outbox, where ``manage.py send_notifications`` (run by cron) retries
it: a mail server being down never blocks, breaks or undoes a step.
"""

import datetime
import logging
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from pages import languages
from review import selectors
from review.models import Notification, Profile, ReviewRequest

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10


def holders_of(codename: str):
    """Active people granted ``review.<codename>`` through a role or directly."""
    permission = Permission.objects.get(content_type__app_label="review", codename=codename)
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    return users.filter(Q(groups__permissions=permission) | Q(user_permissions=permission)).distinct()


def language_of(user) -> str:
    profile = Profile.objects.filter(user=user).first()
    if profile and languages.is_known(profile.language):
        return profile.language
    return languages.source()


def _people_behind(request: ReviewRequest):
    """The submitter and the authors of the changes, who hear the reviewer's answer."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    return users.filter(Q(pk=request.submitted_by_id) | Q(pk__in=request.authors.values("pk"))).distinct()


def _queue(recipients, kind: str, request: ReviewRequest, **context) -> list[int]:
    """One e-mail of ``kind`` about ``request`` (and any other ``requests`` in ``context``, of
    the same page) to each of ``recipients``."""
    requests = context.pop("requests", [request])
    ids = []
    for user in recipients:
        language = language_of(user)
        with translation.override(language):
            values = context | {
                "user": user,
                "request": request,
                "page": request.page,
                "title": getattr(request.page, f"title_{request.language}", "")
                or getattr(request.page, f"title_{languages.source()}"),
                "language_name": ", ".join(languages.local_name(r.language) for r in requests),
                "review_url": settings.SITE_URL + reverse("admin:pages_page_change", args=[request.page_id]),
                "reviews": [
                    {
                        "language_name": languages.local_name(r.language),
                        "url": settings.SITE_URL + reverse("admin:pages_page_review", args=[r.page_id, r.pk]),
                    }
                    for r in requests
                ],
            }
            subject = " ".join(render_to_string(f"review/email/{kind}_subject.txt", values).split())
            body = render_to_string(f"review/email/{kind}.txt", values)
        notification = Notification.objects.create(recipient=user.email, language=language, subject=subject, body=body)
        ids.append(notification.pk)
    transaction.on_commit(lambda: send(ids))
    return ids


def submitted(requests: list[ReviewRequest], comment: str = "") -> None:
    """Tell each reviewer who may approve them, in one e-mail with the editor's note, which
    languages of a page await them, each with a link to its review screen."""
    waiting: dict[int, tuple] = {}
    for request in requests:
        for reviewer in selectors.reviewers_for(request, holders_of("sign_off")):
            waiting.setdefault(reviewer.pk, (reviewer, []))[1].append(request)
    for reviewer, theirs in waiting.values():
        _queue([reviewer], "submitted", theirs[0], requests=theirs, comment=comment)


def approved(request: ReviewRequest) -> None:
    _queue(_people_behind(request), "approved", request)
    _queue(holders_of("publish"), "ready_to_publish", request)


def changes_requested(request: ReviewRequest, comment: str) -> None:
    _queue(_people_behind(request), "changes_requested", request, comment=comment)


def scheduled_step_refused(step) -> None:
    """Tell whoever scheduled ``step`` that it was refused when it fell due, and why; for a
    withdrawal (a recall that did not happen, so the page is still live) every person who
    may withdraw pages, and the page's owner, too."""
    people = get_user_model().objects.filter(is_active=True).exclude(email="")
    recipients = {user.pk: user for user in people.filter(pk=step.scheduled_by_id)}
    if step.action == "withdraw":
        recipients |= {user.pk: user for user in holders_of("withdraw")}
        recipients |= {user.pk: user for user in people.filter(pk=step.page.owner_id)}
    ids = [_refusal_mail(step, user) for user in recipients.values()]
    transaction.on_commit(lambda: send(ids))


def _refusal_mail(step, user) -> int:
    language = language_of(user)
    with translation.override(language):
        values = {
            "user": user,
            "step": step,
            "title": str(step.page),
            "language_name": languages.local_name(step.request.language) if step.request else "",
            "page_url": settings.SITE_URL + reverse("admin:pages_page_change", args=[step.page_id]),
        }
        subject = " ".join(render_to_string("review/email/scheduled_refused_subject.txt", values).split())
        body = render_to_string("review/email/scheduled_refused.txt", values)
    return Notification.objects.create(recipient=user.email, language=language, subject=subject, body=body).pk


# Claimed a batch at a time, each claim holding NOTIFICATION_CLAIM_SECONDS: a run that dies
# (or hangs) past it loses its batch to the next run.
BATCH = 50


def send(ids=None) -> tuple[int, int]:
    """Send queued e-mails (those in ``ids``, or every unsent one); return (sent, failed).

    Each e-mail is claimed by this run before it is sent, a batch at a time, with a lease:
    two runs at once never send the same one, and one a run took and then died with is sent
    by a later run once the lease has run out (so at most the one in flight goes twice).
    Each is marked sent as soon as its own send succeeds."""
    run = uuid.uuid4().hex
    sent = failed = 0
    tried: set[int] = set()
    while (batch := _claim(run, ids, tried)) is not None:
        for notification in batch:
            mine = Notification.objects.filter(pk=notification.pk, claimed_by=run)
            try:
                EmailMessage(notification.subject, notification.body, to=[notification.recipient]).send()
            except Exception as error:  # any failure of the mail system; the step it reports on stands
                logger.warning("Could not send “%s” to %s: %s", notification.subject, notification.recipient, error)
                mine.update(last_error=f"{type(error).__name__}: {error}", claimed_by="", claimed_until=None)
                failed += 1
            else:
                mine.update(sent_at=timezone.now(), last_error="", claimed_by="", claimed_until=None)
                sent += 1
    return sent, failed


def _claim(run: str, ids, tried: set[int]) -> list[Notification] | None:
    """Take up to BATCH unsent e-mails, not tried yet by this run, that nobody holds a live
    claim on (None when there are none left). The claim is one conditional UPDATE: of two
    runs racing for a row, the second finds it claimed and leaves it."""
    now = timezone.now()
    free = Notification.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    if ids is not None:
        free = free.filter(pk__in=ids)
    wanted = list(free.exclude(pk__in=tried).order_by("pk").values_list("pk", flat=True)[:BATCH])
    if not wanted:
        return None
    tried.update(wanted)
    lease = datetime.timedelta(seconds=settings.NOTIFICATION_CLAIM_SECONDS)
    free.filter(pk__in=wanted).update(claimed_by=run, claimed_until=now + lease, attempts=F("attempts") + 1)
    return list(Notification.objects.filter(pk__in=wanted, claimed_by=run).order_by("pk"))
