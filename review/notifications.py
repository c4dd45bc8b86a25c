"""E-mails about the workflow, in each recipient's language.

A step queues its e-mails as Notification rows inside its own transaction and
sends them once that transaction has committed. A send that fails is logged and
left in the outbox, where ``manage.py send_notifications`` (run by cron) retries
it: a mail server being down never blocks, breaks or undoes a step.
"""

import logging

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
                "language_name": languages.local_name(request.language),
                "review_url": settings.SITE_URL + reverse("admin:pages_page_change", args=[request.page_id]),
            }
            subject = " ".join(render_to_string(f"review/email/{kind}_subject.txt", values).split())
            body = render_to_string(f"review/email/{kind}.txt", values)
        notification = Notification.objects.create(recipient=user.email, language=language, subject=subject, body=body)
        ids.append(notification.pk)
    transaction.on_commit(lambda: send(ids))
    return ids


def submitted(requests: list[ReviewRequest]) -> None:
    """Tell the reviewers who may approve it that a version awaits them."""
    for request in requests:
        reviewers = holders_of("sign_off").exclude(pk__in=request.authors.values("pk"))
        _queue(reviewers, "submitted", request)


def approved(request: ReviewRequest) -> None:
    _queue(_people_behind(request), "approved", request)
    _queue(holders_of("publish"), "ready_to_publish", request)


def changes_requested(request: ReviewRequest, comment: str) -> None:
    _queue(_people_behind(request), "changes_requested", request, comment=comment)


def send(ids=None) -> tuple[int, int]:
    """Send queued e-mails (those in ``ids``, or every unsent one); return (sent, failed)."""
    pending = Notification.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
    if ids is not None:
        pending = pending.filter(pk__in=ids)
    sent = failed = 0
    for notification in pending.order_by("pk"):
        # Claim it first, so that two senders at once (a step and the command) never both send it.
        claimed = Notification.objects.filter(
            pk=notification.pk, sent_at__isnull=True, attempts=notification.attempts
        ).update(attempts=F("attempts") + 1)
        if not claimed:
            continue
        try:
            EmailMessage(notification.subject, notification.body, to=[notification.recipient]).send()
        except Exception as error:  # any failure of the mail system; the step it reports on stands
            logger.warning("Could not send “%s” to %s: %s", notification.subject, notification.recipient, error)
            Notification.objects.filter(pk=notification.pk).update(last_error=f"{type(error).__name__}: {error}")
            failed += 1
        else:
            Notification.objects.filter(pk=notification.pk).update(sent_at=timezone.now(), last_error="")
            sent += 1
    return sent, failed
