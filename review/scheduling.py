"""Publishing and withdrawing at a time to come.

A publisher asks for a step at a time; ``run_due`` (called by the frequent and
the daily commands) takes each step that has fallen due through the very service
that takes it now, as the person who scheduled it, so every check is made again
when it runs: an approval superseded meanwhile, a withdrawal since, a right
taken away. A step refused then is recorded as refused, logged and mailed to
whoever scheduled it; nothing of it reaches the public.
"""

import datetime
import logging
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from pages import languages as site_languages
from pages.live_site import hold_live_site
from pages.models import LiveSnapshot, Page
from pages.people import display_name
from review import notifications, services
from review.errors import WorkflowError
from review.models import ReviewRequest, ScheduledStep, State, Transition

logger = logging.getLogger(__name__)

# How far ahead a step may be scheduled: further than this is more likely a typing slip.
LONGEST_WAIT = datetime.timedelta(days=366)


@dataclass
class Ran:
    step: ScheduledStep
    refused: str = ""  # why, when it was refused


def _check_time(at: datetime.datetime) -> datetime.datetime:
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    now = timezone.now()
    if at <= now:
        raise WorkflowError(_("Choose a time in the future, or take the step now."))
    if at > now + LONGEST_WAIT:
        raise WorkflowError(_("Choose a time within a year from now."))
    return at


def when(at: datetime.datetime) -> str:
    return date_format(timezone.localtime(at), "DATETIME_FORMAT")


def _log(step: ScheduledStep, *, action, user, comment, languages: list[str], state: str) -> None:
    """A log row for ``step``; ``comment`` is a function, written in the site's own language."""
    request = step.request
    with translation.override(site_languages.source()):
        comment = comment()
    services.log_step(
        request,
        page=step.page_id,
        action=action,
        from_state=state,
        to_state=state,
        user=user,
        comment=comment,
        revision=request.revision if request else None,
        languages=languages,
    )


def _create(already: str, **fields) -> ScheduledStep:
    """A waiting step with ``fields``, scheduled now; WorkflowError(``already``) when the
    same is already waiting (the table's constraints say so)."""
    try:
        with transaction.atomic():
            return ScheduledStep.objects.create(scheduled_at=timezone.now(), **fields)
    except IntegrityError:
        raise WorkflowError(already) from None


def schedule_publish(*, request: ReviewRequest, user: AbstractBaseUser, at: datetime.datetime) -> ScheduledStep:
    """Publish the approved ``request`` at ``at``, as ``user`` (who must be allowed to now)."""
    services.require(user, "publish", _("publish pages"))
    at = _check_time(at)
    with transaction.atomic():
        request = ReviewRequest.objects.select_for_update().select_related("revision").get(pk=request.pk)
        if request.state != State.APPROVED:
            raise WorkflowError(
                _("This request is %(state)s, so it cannot be published.") % {"state": request.get_state_display()}
            )
        services.check_publisher(user, request)
        step = _create(
            _("This version is already scheduled to be published; cancel that first."),
            page_id=request.page_id,
            action=ScheduledStep.Action.PUBLISH,
            request=request,
            due_at=at,
            scheduled_by=user,
        )
        _log(
            step,
            action=Transition.Action.SCHEDULE,
            user=user,
            comment=lambda: _("To be published at %(when)s.") % {"when": when(at)},
            languages=[request.language],
            state=State.APPROVED,
        )
    return step


def schedule_withdrawal(
    *,
    page: Page,
    user: AbstractBaseUser,
    at: datetime.datetime,
    reason: str,
    translations: dict[str, str] | None = None,
) -> ScheduledStep:
    """Withdraw ``page`` at ``at`` with ``reason`` (and its ``translations``), as ``user``."""
    services.require(user, "withdraw", _("withdraw pages"))
    reason = services.clean_comment(reason, required=_("Say why the page is withdrawn: readers are told."))
    translations = {code: services.clean_comment(text) for code, text in (translations or {}).items() if text}
    for code in translations:
        services.check_language(code)
    at = _check_time(at)
    with transaction.atomic():
        page = Page.objects.select_for_update().get(pk=page.pk)
        live = sorted(LiveSnapshot.objects.filter(page=page).live().values_list("language", flat=True))
        if not live:
            raise WorkflowError(_("“%(page)s” is not live.") % {"page": page})
        step = _create(
            _("This page is already scheduled to be withdrawn; cancel that first."),
            page=page,
            action=ScheduledStep.Action.WITHDRAW,
            reasons={"reason": reason, "translations": translations},
            due_at=at,
            scheduled_by=user,
        )
        _log(
            step,
            action=Transition.Action.SCHEDULE,
            user=user,
            comment=lambda: _("To be withdrawn at %(when)s: %(reason)s") % {"when": when(at), "reason": reason},
            languages=live,
            state=services.LIVE,
        )
    return step


def cancel(*, step: ScheduledStep, user: AbstractBaseUser) -> ScheduledStep:
    """Call off a step that has not run yet."""
    if step.action == ScheduledStep.Action.PUBLISH:
        services.require(user, "publish", _("publish pages"))
    else:
        services.require(user, "withdraw", _("withdraw pages"))
    with transaction.atomic():
        step = ScheduledStep.objects.select_for_update(of=("self",)).select_related("request__revision").get(pk=step.pk)
        if step.outcome != ScheduledStep.Outcome.WAITING:
            raise WorkflowError(
                _("This step is %(outcome)s, so it cannot be cancelled.") % {"outcome": step.get_outcome_display()}
            )
        step.outcome = ScheduledStep.Outcome.CANCELLED
        step.finished_at = timezone.now()
        step.save(update_fields=["outcome", "finished_at"])
        _log(
            step,
            action=Transition.Action.CANCEL_SCHEDULE,
            user=user,
            comment=lambda: _("Was due at %(when)s.") % {"when": when(step.due_at)},
            languages=[step.request.language] if step.request else [],
            state=State.APPROVED if step.request else services.LIVE,
        )
    return step


def run_due(*, now: datetime.datetime | None = None) -> list[Ran]:
    """Take every waiting step due by ``now``, oldest first, one transaction each.
    Two runs at once never take the same step: each locks the step it takes and
    passes over those another run holds."""
    now = now or timezone.now()
    due = ScheduledStep.objects.filter(outcome=ScheduledStep.Outcome.WAITING, due_at__lte=now)
    ran = []
    # Most runs find nothing due: one query, no lock, and the public cache left alone.
    while due.exists():
        with transaction.atomic():
            # The live site first, then the rows, as every change to it does; held, not counted
            # as a change (the step counts its own, and a refused step changes nothing).
            hold_live_site()
            step = (
                ScheduledStep.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("request__revision", "scheduled_by", "page")
                .filter(pk__in=due.values("pk"))
                .order_by("due_at", "pk")
                .first()
            )
            if step is None:  # the rest are held by another run
                return ran
            ran.append(_take(step))
        if ran[-1].refused:
            logger.warning("Scheduled step %s refused: %s", ran[-1].step, ran[-1].refused)
    return ran


def _take(step: ScheduledStep) -> Ran:
    # What the site writes in the log, and a refusal's reason, in the site's own language,
    # whoever runs the job and in whatever language it was started.
    with translation.override(site_languages.source()):
        return _take_now(step)


def _take_now(step: ScheduledStep) -> Ran:
    by = step.scheduled_by
    note = _("Scheduled by %(person)s on %(when)s.") % {
        "person": display_name(by),
        "when": when(step.scheduled_at),
    }
    try:
        with transaction.atomic():
            if step.action == ScheduledStep.Action.PUBLISH:
                services.publish(request=step.request, user=by, comment=note)
            else:
                reasons = step.reasons
                # A reason in a language the site has stopped offering is left out, never the recall.
                given = {
                    code: text
                    for code, text in reasons.get("translations", {}).items()
                    if site_languages.is_known(code)
                }
                services.withdraw(page=step.page, user=by, reason=reasons["reason"], translations=given)
    except Exception as error:  # one step that cannot be taken must never stop the others
        if not isinstance(error, WorkflowError):
            logger.exception("Scheduled step %s could not be taken", step)
        step.outcome = ScheduledStep.Outcome.REFUSED
        step.note = (
            str(error)
            if isinstance(error, WorkflowError)
            else _("It could not be taken: %(error)s") % {"error": f"{type(error).__name__}: {error}"}
        )
        step.finished_at = timezone.now()
        step.save(update_fields=["outcome", "note", "finished_at"])
        _log(
            step,
            action=Transition.Action.SCHEDULE_REFUSED,
            user=None,
            comment=lambda: step.note,
            languages=[step.request.language] if step.request else [],
            state="",
        )
        notifications.scheduled_step_refused(step)
        return Ran(step, refused=step.note)
    step.outcome = ScheduledStep.Outcome.DONE
    step.finished_at = timezone.now()
    step.save(update_fields=["outcome", "finished_at"])
    return Ran(step)


def describe(ran: Ran) -> str:
    """One line for a command's output."""
    step = ran.step
    what = f"{step.action} page {step.page_id}" + (f" [{step.request.language}]" if step.request else "")
    due = timezone.localtime(step.due_at).strftime("%Y-%m-%d %H:%M")
    return f"Scheduled {what}, due {due}: " + (f"refused: {ran.refused}" if ran.refused else "done.")


def waiting_due(now: datetime.datetime | None = None) -> int:
    return ScheduledStep.objects.filter(
        outcome=ScheduledStep.Outcome.WAITING, due_at__lte=now or timezone.now()
    ).count()
