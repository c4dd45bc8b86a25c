"""Review reminders: who must hear, today, that a live page's clinical review is
coming up, due or overdue, sent as one digest e-mail per person, exactly once.

Exactly once rests on the database: each reminder (page, language, kind, due
date, recipient) is recorded under a unique constraint *before* it is sent, and
a run sends only the reminders it recorded itself. A rerun the same day, or a
second server running at the same moment, records nothing new and so sends
nothing twice. A failed send is marked failed, and the next run takes it up again.

The work is a constant number of queries however many pages are due.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Case, F, Q, TextField, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from pages import languages
from pages.models import LiveSnapshot
from review.models import OPEN_STATES, Reminder, ReviewRequest, State

logger = logging.getLogger(__name__)


# A run holds the reminders it claimed for REVIEW_REMINDER_CLAIM_SECONDS, and renews that
# after each digest it sends; a run that died (or hangs) loses them to the next run then.
def claim_lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.REVIEW_REMINDER_CLAIM_SECONDS)


ROW_FIELDS = ("page_id", "language", "title", "path", "next_review_due")
OWNER_FIELDS = ("email", "is_active", "first_name", "last_name", "username", "review_profile__language")
ROW_FIELDS += tuple(f"page__owner__{name}" for name in OWNER_FIELDS)


def lead_times() -> list[int]:
    """Days before the due date to remind, largest first (setting REVIEW_REMINDER_DAYS)."""
    return sorted(set(settings.REVIEW_REMINDER_DAYS), reverse=True)


def kind_of(due: datetime.date, today: datetime.date, leads: list[int]) -> str | None:
    """Which reminder a review due on ``due`` calls for on ``today``, if any.

    Before the due date, the nearest lead time reached ("before-14"); from the due
    date, "due" for its first week, then "overdue-1", "overdue-2"... one a week.
    A run that missed a day still sends the reminder of the period it is in.
    """
    days_left = (due - today).days
    if days_left > 0:
        reached = [lead for lead in leads if days_left <= lead]
        return f"before-{min(reached)}" if reached else None
    weeks = -days_left // 7
    return "due" if weeks == 0 else f"overdue-{weeks}"


@dataclass
class Item:
    """One live page version whose review calls for a reminder today."""

    page_id: int
    language: str
    title: str
    path: str
    due_date: datetime.date
    kind: str
    state: str
    recipient: str
    recipient_language: str
    owner: str

    @property
    def key(self) -> tuple:
        return (self.page_id, self.language, self.kind, self.due_date, self.recipient)

    @property
    def days_left(self) -> int:
        return (self.due_date - self.today).days

    today: datetime.date = field(default=datetime.date.min, repr=False)


def due_items(today: datetime.date) -> list[Item]:
    """Every reminder due on ``today``: two queries, whatever their number."""
    leads = lead_times()
    horizon = today + datetime.timedelta(days=max(leads, default=0))
    snapshots = LiveSnapshot.objects.live().filter(next_review_due__lte=horizon)
    in_workflow = {
        (page_id, language): state
        for page_id, language, state in ReviewRequest.objects.filter(
            state__in=OPEN_STATES, page__in=snapshots.values("page_id")
        ).values_list("page_id", "language", "state")
    }
    fallback = settings.REVIEW_REMINDER_FALLBACK_EMAIL
    items = []
    rows = snapshots.order_by("next_review_due", "path", "language").values_list(*ROW_FIELDS)
    for page_id, language, title, path, due, email, is_active, first, last, username, owner_language in rows:
        kind = kind_of(due, today, leads)
        if kind is None:
            continue
        if email and is_active:
            recipient, name = email, f"{first} {last}".strip() or username
            recipient_language = owner_language or languages.source()
        else:
            recipient, name, recipient_language = fallback, "", languages.source()
        items.append(
            Item(
                page_id=page_id,
                language=language,
                title=title,
                path=path,
                due_date=due,
                kind=kind,
                state=in_workflow.get((page_id, language), "live"),
                recipient=recipient,
                recipient_language=recipient_language,
                owner=name,
                today=today,
            )
        )
    return items


@dataclass
class Outcome:
    due: int = 0
    digests: int = 0
    sent: int = 0
    failed: int = 0
    already_sent: int = 0
    held: int = 0  # being sent by another run, or by one that stopped: taken over when its claim runs out
    unaddressed: int = 0  # no owner address and no fallback address: reported, never dropped silently
    lines: list[str] = field(default_factory=list)


def digests(items: list[Item]) -> dict[str, list[Item]]:
    """The items grouped by recipient, each person's in due-date order."""
    grouped: dict[str, list[Item]] = {}
    for item in sorted(items, key=lambda item: (item.recipient, item.due_date, item.path, item.language)):
        grouped.setdefault(item.recipient, []).append(item)
    return grouped


def compose(recipient: str, items: list[Item]) -> EmailMessage:
    language = items[0].recipient_language if languages.is_known(items[0].recipient_language) else languages.source()
    with translation.override(language):
        context = {
            "items": [
                {
                    "item": item,
                    "admin_url": settings.SITE_URL + reverse("admin:pages_page_change", args=[item.page_id]),
                    "language_name": languages.local_name(item.language),
                    "overdue_days": max(0, -item.days_left),
                    "state": State(item.state).label if item.state in State.values else _("live"),
                }
                for item in items
            ],
            "owner": items[0].owner,
            "count": len(items),
        }
        subject = " ".join(render_to_string("review/email/reminder_subject.txt", context).split())
        body = render_to_string("review/email/reminder.txt", context)
    return EmailMessage(subject, body, to=[recipient])


def run(today: datetime.date, *, dry_run: bool = False) -> Outcome:
    """Send today's reminders (or, with ``dry_run``, only say what they would be)."""
    items = due_items(today)
    outcome = Outcome(due=len(items))
    unaddressed = [item for item in items if not item.recipient]
    for item in unaddressed:
        outcome.lines.append(f"NO ADDRESS: /{item.language}/{item.path}/ ({item.kind}): no owner e-mail, no fallback")
    outcome.unaddressed = len(unaddressed)
    items = [item for item in items if item.recipient]
    if dry_run:
        for recipient, group in digests(items).items():
            outcome.digests += 1
            outcome.lines.append(f"would send to {recipient}: {len(group)} page version(s)")
            outcome.lines.extend(f"  {item.due_date} {item.kind:<11} /{item.language}/{item.path}/" for item in group)
        return outcome

    token, now = uuid.uuid4().hex, timezone.now()
    # Take up what failed before, and what a run that stopped left unsent once its claim ran out.
    Reminder.objects.filter(
        Q(status=Reminder.Status.FAILED) | Q(status=Reminder.Status.SENDING, claimed_at__lt=now - claim_lease())
    ).update(claim=token, claimed_at=now, status=Reminder.Status.SENDING, attempts=F("attempts") + 1)
    # Record today's; those already recorded (by an earlier or a concurrent run) are left alone:
    # skipped when already there, and refused by the unique constraint when recorded meanwhile.
    recorded = set()
    if items:
        earliest = min(item.due_date for item in items)
        recorded = set(
            Reminder.objects.filter(due_date__gte=earliest, due_date__lte=max(item.due_date for item in items))
            .exclude(claim=token)
            .values_list("page_id", "language", "kind", "due_date", "recipient")
        )
    Reminder.objects.bulk_create(
        [
            Reminder(
                page_id=item.page_id,
                language=item.language,
                kind=item.kind,
                due_date=item.due_date,
                recipient=item.recipient,
                claim=token,
                claimed_at=now,
            )
            for item in items
            if item.key not in recorded
        ],
        ignore_conflicts=True,
    )
    mine = {
        (r.page_id, r.language, r.kind, r.due_date, r.recipient): r.pk for r in Reminder.objects.filter(claim=token)
    }
    current = {item.key for item in items}
    # A retried reminder whose review has since moved (re-confirmed, republished) is no longer owed.
    obsolete = [pk for key, pk in mine.items() if key not in current]
    to_send = [item for item in items if item.key in mine]
    others = Reminder.objects.filter(status=Reminder.Status.SENDING).exclude(claim=token)
    held = set(others.values_list("page_id", "language", "kind", "due_date", "recipient"))
    outcome.held = sum(item.key in held for item in items)
    outcome.already_sent = len(items) - len(to_send) - outcome.held

    failures = {}
    for recipient, group in digests(to_send).items():
        outcome.digests += 1
        ids = [mine[item.key] for item in group]
        try:
            compose(recipient, group).send()
        except Exception as error:  # any failure of the mail system: recorded, retried next run
            logger.warning("Could not send review reminders to %s: %s", recipient, error)
            failures[recipient] = (ids, f"{type(error).__name__}: {error}")
            outcome.failed += 1
            outcome.lines.append(f"FAILED to send to {recipient} ({len(group)} page version(s)): {error}")
        else:
            # Marked at once, and this run's claim on the rest renewed: after a crash, at most this
            # one digest goes again.
            sent_now, just_sent = timezone.now(), Q(pk__in=ids)
            Reminder.objects.filter(claim=token, status=Reminder.Status.SENDING).update(
                status=Case(When(just_sent, then=Value(Reminder.Status.SENT)), default=F("status")),
                sent_at=Case(When(just_sent, then=Value(sent_now)), default=F("sent_at")),
                last_error=Case(When(just_sent, then=Value("", output_field=TextField())), default=F("last_error")),
                claimed_at=sent_now,
            )
            outcome.sent += 1
            outcome.lines.append(f"sent to {recipient}: {len(group)} page version(s)")
            outcome.lines.extend(f"  {item.due_date} {item.kind:<11} /{item.language}/{item.path}/" for item in group)
    Reminder.objects.filter(pk__in=obsolete).delete()
    for ids, error in failures.values():
        Reminder.objects.filter(pk__in=ids).update(status=Reminder.Status.FAILED, last_error=error)
    return outcome
