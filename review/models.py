"""The sign-off workflow's records: review requests, their immutable log, and
the outbox of e-mails it sends. The roles it relies on are created by migrations."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pages.models import Page, PageRevision


class State(models.TextChoices):
    IN_REVIEW = "in_review", _("in review")
    CHANGES_REQUESTED = "changes_requested", _("changes requested")
    APPROVED = "approved", _("approved, not live")
    PUBLISHED = "published", _("published")
    SUPERSEDED = "superseded", _("superseded")


# A request in one of these states still has a next step.
OPEN_STATES = (State.IN_REVIEW, State.CHANGES_REQUESTED, State.APPROVED)


class ReviewRequest(models.Model):
    """One revision of one page, in one language, on its way to the public.

    It is pinned to that revision: approving approves exactly its wording, and
    publishing publishes the wording frozen at approval, whatever was saved since.
    """

    page = models.ForeignKey(
        Page, on_delete=models.DO_NOTHING, db_constraint=False, related_name="review_requests", verbose_name=_("page")
    )
    language = models.CharField(_("language"), max_length=10)
    revision = models.ForeignKey(
        PageRevision, on_delete=models.PROTECT, related_name="review_requests", verbose_name=_("revision")
    )
    state = models.CharField(_("state"), max_length=20, choices=State, default=State.IN_REVIEW)
    # Who wrote the changes under review (since the last live version in this
    # language): none of them may approve it.
    authors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("authors"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted by")
    )
    submitted_at = models.DateTimeField(_("submitted"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("reviewer")
    )
    approved_at = models.DateTimeField(_("approved"), null=True)
    approval_comment = models.TextField(_("reviewer's comment"), blank=True)
    last_reviewed = models.DateField(_("last reviewed"), null=True)
    next_review_due = models.DateField(_("next review due"), null=True)
    # The wording as approved (see pages.publishing.freeze): what publishing makes live.
    wording = models.JSONField(null=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("publisher")
    )
    published_at = models.DateTimeField(_("published"), null=True)
    is_reconfirmation = models.BooleanField(
        _("reviewed, no change needed"), default=False, help_text=_("A live version re-confirmed without an edit.")
    )

    class Meta:
        # The admin lists the approved ones, as the sign-off ledger; open ones are in the page list.
        verbose_name = _("sign-off")
        verbose_name_plural = _("sign-offs")
        ordering = ["-submitted_at", "-pk"]
        permissions = [
            ("submit_for_review", _("Can submit pages for clinical review")),
            ("sign_off", _("Can approve, request changes and re-confirm (clinical reviewer)")),
            ("publish", _("Can publish approved versions")),
            ("withdraw", _("Can withdraw live pages")),
            ("view_ledger", _("Can read and export the sign-off ledger")),
        ]
        indexes = [
            models.Index(fields=["page", "language", "state"]),
            # The ledger: a page of sign-offs in the list's order, read from an index, not
            # sorted out of all of them; and the range of years they were approved in.
            models.Index(
                models.F("submitted_at").desc(),
                models.F("id").desc(),
                condition=models.Q(approved_at__isnull=False),
                name="review_ledger_order",
            ),
            models.Index(fields=["approved_at"], name="review_approved_at"),
        ]

    def __str__(self):
        return f"{self.page_id} [{self.language}] #{self.revision.number}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class AppendOnly(models.Model):
    """A row written once and never changed or deleted (by the application)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and type(self).objects.filter(pk=self.pk).exists():
            raise TypeError(f"{type(self).__name__} rows are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} rows are never deleted.")


class Transition(AppendOnly):
    """One step of the workflow, as it happened: the audit log."""

    class Action(models.TextChoices):
        SUBMIT = "submit", _("submitted for review")
        REQUEST_CHANGES = "request_changes", _("requested changes")
        APPROVE = "approve", _("approved")
        PUBLISH = "publish", _("published")
        WITHDRAW = "withdraw", _("withdrew")
        RECONFIRM = "reconfirm", _("re-confirmed, no change needed")
        SUPERSEDE = "supersede", _("superseded")
        MOVE = "move", _("moved")
        SCHEDULE = "schedule", _("scheduled")
        CANCEL_SCHEDULE = "cancel_schedule", _("cancelled a scheduled step")
        SCHEDULE_REFUSED = "schedule_refused", _("scheduled step refused")

    page = models.ForeignKey(
        Page, on_delete=models.DO_NOTHING, db_constraint=False, related_name="transitions", verbose_name=_("page")
    )
    request = models.ForeignKey(
        ReviewRequest, null=True, on_delete=models.PROTECT, related_name="transitions", verbose_name=_("request")
    )
    revision = models.ForeignKey(
        PageRevision, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("revision")
    )
    languages = models.JSONField(_("languages"), default=list)
    action = models.CharField(_("action"), max_length=20, choices=Action)
    from_state = models.CharField(_("from"), max_length=20, blank=True)
    to_state = models.CharField(_("to"), max_length=20)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("when"))
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("workflow step")
        verbose_name_plural = _("workflow log")
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.get_action_display()} {self.page_id} {self.languages}"


class Profile(models.Model):
    """What the workflow needs to know about a person beyond their account."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_profile")
    language = models.CharField(
        _("e-mail language"), max_length=10, help_text=_("The language of the e-mails this person receives.")
    )

    class Meta:
        verbose_name = _("review profile")
        verbose_name_plural = _("review profiles")

    def __str__(self):
        return f"{self.user} ({self.language})"


class Notification(models.Model):
    """An e-mail the workflow owes someone. Written in the transition's
    transaction, sent after it commits; a failed send stays here to be retried."""

    recipient = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=10)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # The run sending it now, and until when that claim holds (a run that died loses it then).
    claimed_by = models.CharField(max_length=32, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.recipient}: {self.subject}"


class Reminder(models.Model):
    """One review reminder owed to one person, recorded before it is sent.

    The unique constraint is what makes reminders go out exactly once: a rerun,
    or a second server running at the same moment, cannot record the same
    reminder again. A failed send is marked failed and taken up by the next run.
    """

    class Status(models.TextChoices):
        SENDING = "sending", _("being sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed, to be retried")

    page = models.ForeignKey(
        Page, on_delete=models.DO_NOTHING, db_constraint=False, related_name="reminders", verbose_name=_("page")
    )
    language = models.CharField(_("language"), max_length=10)
    # "before-60", "before-14", "due", "overdue-1", "overdue-2"...: one of each per due date.
    kind = models.CharField(_("kind"), max_length=20)
    due_date = models.DateField(_("review due"))
    recipient = models.EmailField(_("recipient"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.SENDING)
    claim = models.CharField(max_length=32, editable=False, help_text="The run sending it now.")
    claimed_at = models.DateTimeField(_("claimed"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("review reminder")
        verbose_name_plural = _("review reminders")
        ordering = ["-claimed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["page", "language", "kind", "due_date", "recipient"], name="one_reminder_of_each_kind"
            )
        ]
        indexes = [models.Index(fields=["status", "claimed_at"]), models.Index(fields=["claim"])]

    def __str__(self):
        return f"{self.page_id} [{self.language}] {self.kind} → {self.recipient}"


class ScheduledStep(models.Model):
    """A publish or a withdrawal asked for at a time to come. The frequent and daily
    commands take it when it falls due, through the same workflow step, by the
    person who scheduled it, and with every check that step makes then."""

    class Action(models.TextChoices):
        PUBLISH = "publish", _("publish")
        WITHDRAW = "withdraw", _("withdraw")

    class Outcome(models.TextChoices):
        WAITING = "waiting", _("waiting")
        DONE = "done", _("done")
        REFUSED = "refused", _("refused")
        CANCELLED = "cancelled", _("cancelled")

    page = models.ForeignKey(
        Page, on_delete=models.DO_NOTHING, db_constraint=False, related_name="scheduled_steps", verbose_name=_("page")
    )
    action = models.CharField(_("action"), max_length=10, choices=Action)
    # What is published: the approval, exactly as for publishing now.
    request = models.ForeignKey(
        ReviewRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("sign-off")
    )
    # What readers are told of a withdrawal, by language.
    reasons = models.JSONField(_("reasons"), default=dict, blank=True)
    due_at = models.DateTimeField(_("due"))
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("scheduled by")
    )
    scheduled_at = models.DateTimeField(_("scheduled"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome, default=Outcome.WAITING)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("scheduled step")
        verbose_name_plural = _("scheduled steps")
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"], condition=models.Q(outcome="waiting"), name="one_waiting_publish_per_sign_off"
            ),
            models.UniqueConstraint(
                fields=["page"],
                condition=models.Q(outcome="waiting", action="withdraw"),
                name="one_waiting_withdrawal_per_page",
            ),
        ]
        indexes = [models.Index(fields=["due_at"], condition=models.Q(outcome="waiting"), name="scheduled_waiting")]

    def __str__(self):
        return f"{self.get_action_display()} {self.page_id} @ {self.due_at:%Y-%m-%d %H:%M}"
