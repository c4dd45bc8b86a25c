"""The sign-off workflow: the only way wording reaches the public from the admin.

draft → in review → changes requested | approved → live, per page and language.
Each function checks the person's permission itself (never trust a hidden
button), does its work in one transaction, writes one immutable log row per
step, and queues its e-mails, which are sent after the transaction commits so
that a mail failure never undoes or blocks a step.
"""

import calendar
import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pages import languages as site_languages
from pages import publishing
from pages.models import LiveSnapshot, Page, PageRevision, Publication
from review import notifications
from review.models import OPEN_STATES, ReviewRequest, State, Transition

DRAFT = "draft"
LIVE = "live"
WITHDRAWN = "withdrawn"


class WorkflowError(Exception):
    """A step was refused; the message says why, for the person who asked."""


class NotAllowed(WorkflowError):
    pass


def display_name(user: AbstractBaseUser | None) -> str:
    if user is None:
        return _("the system")
    return user.get_full_name() or user.get_username()


def _require(user: AbstractBaseUser, permission: str, doing: str) -> None:
    if not (user.is_active and user.has_perm(f"review.{permission}")):
        raise NotAllowed(_("You do not have permission to %s.") % doing)


def _check_language(language: str) -> None:
    if not site_languages.is_known(language):
        known = ", ".join(site_languages.codes())
        raise WorkflowError(
            _("Unknown language %(code)s: this site has %(known)s.") % {"code": language, "known": known}
        )


def _log(request: ReviewRequest | None, *, page, action, from_state, to_state, user, comment="", **extra) -> Transition:
    return Transition.objects.create(
        page_id=page.pk if isinstance(page, Page) else page,
        request=request,
        revision=extra.get("revision", request.revision if request else None),
        languages=extra.get("languages", [request.language] if request else []),
        action=action,
        from_state=from_state,
        to_state=to_state,
        user=user,
        at=timezone.now(),
        comment=comment,
    )


def _live(page_id: int, language: str) -> LiveSnapshot | None:
    return (
        LiveSnapshot.objects.filter(page_id=page_id, language=language, withdrawn_at__isnull=True)
        .select_related("revision")
        .first()
    )


def last_published_number(page_id: int, language: str) -> int:
    """The revision number last published in ``language`` (0 if never)."""
    publication = (
        Publication.objects.filter(page_id=page_id, language=language, revision__isnull=False)
        .select_related("revision")
        .order_by("-published_at", "-pk")
        .first()
    )
    return publication.revision.number if publication else 0


def authors_since_live(page_revision: PageRevision, language: str) -> set[int]:
    """The people who wrote changes to ``language`` (or to the page's structure)
    between the last published version in that language and ``page_revision``."""
    since = last_published_number(page_revision.page_id, language)
    rows = PageRevision.objects.filter(
        page_id=page_revision.page_id, number__gt=since, number__lte=page_revision.number
    ).values_list("languages", "structure_changed", "revision__user_id")
    return {user_id for changed, structural, user_id in rows if user_id and (language in changed or structural)}


def add_months(date: datetime.date, months: int) -> datetime.date:
    """``date`` moved on by ``months``; the 31st becomes the month's last day."""
    years, month_index = divmod(date.month - 1 + months, 12)
    year, month = date.year + years, month_index + 1
    return date.replace(year=year, month=month, day=min(date.day, calendar.monthrange(year, month)[1]))


def default_review_dates(page: Page, today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    today = today or timezone.localdate()
    return today, add_months(today, page.review_interval_months)


def check_review_dates(last_reviewed: datetime.date, next_review_due: datetime.date) -> None:
    today = timezone.localdate()
    if last_reviewed > today:
        raise WorkflowError(_("The review date cannot be in the future."))
    if next_review_due <= last_reviewed:
        raise WorkflowError(_("The next review must come after the date of this review."))
    if next_review_due <= today:
        raise WorkflowError(_("The next review cannot be due today or in the past."))


def _supersede(requests, *, by: AbstractBaseUser | None, reason: str) -> None:
    for old in requests:
        _log(
            old,
            page=old.page_id,
            action=Transition.Action.SUPERSEDE,
            from_state=old.state,
            to_state=State.SUPERSEDED,
            user=by,
            comment=reason,
        )
        old.state = State.SUPERSEDED
        old.save(update_fields=["state"])


def submit(
    *, page: Page, languages: list[str], user: AbstractBaseUser, comment: str = "", revision: PageRevision | None = None
) -> list[ReviewRequest]:
    """Ask for clinical review of ``revision`` (the page's latest by default) in each of ``languages``."""
    _require(user, "submit_for_review", _("submit pages for review"))
    languages = list(dict.fromkeys(languages))
    if not languages:
        raise WorkflowError(_("Choose at least one language to submit."))
    for language in languages:
        _check_language(language)
    with transaction.atomic():
        page = Page.objects.select_for_update().get(pk=page.pk)
        latest = PageRevision.objects.filter(page=page).order_by("-number").first()
        revision = revision or latest
        if revision is None or revision.page_id != page.pk:
            raise WorkflowError(_("This page has no saved revision to submit."))
        created = []
        for language in languages:
            created.append(_submit_one(page, revision, language, user, comment))
    notifications.submitted(created)
    return created


def _submit_one(page: Page, revision: PageRevision, language: str, user, comment: str) -> ReviewRequest:
    name = site_languages.local_name(language)
    live = _live(page.pk, language)
    if live is not None and live.revision is not None and live.revision.number >= revision.number:
        raise WorkflowError(
            _("Revision %(number)s is not newer than the live %(name)s version.")
            % {"number": revision.number, "name": name}
        )
    try:
        wording = publishing.freeze_for_sign_off(revision, language)
    except publishing.PublishingError as error:
        raise WorkflowError(str(error)) from None
    if live is not None and live.source == wording:
        raise WorkflowError(
            _(
                "Nothing in the %(name)s wording has changed since the live version. To renew its review dates, "
                "a reviewer can mark it “Reviewed, no change needed”."
            )
            % {"name": name}
        )
    open_requests = ReviewRequest.objects.select_for_update().filter(
        page=page, language=language, state__in=OPEN_STATES
    )
    if any(r.revision_id == revision.pk and r.state != State.CHANGES_REQUESTED for r in open_requests):
        raise WorkflowError(
            _("Revision %(number)s is already submitted in %(name)s.") % {"number": revision.number, "name": name}
        )
    previous = [r for r in open_requests if r.state != State.APPROVED]
    from_state = previous[0].state if previous else (LIVE if live else DRAFT)
    _supersede(previous, by=user, reason=_("A newer revision was submitted."))
    request = ReviewRequest.objects.create(
        page=page, language=language, revision=revision, submitted_by=user, submitted_at=timezone.now()
    )
    request.authors.set(authors_since_live(revision, language))
    _log(
        request,
        page=page,
        action=Transition.Action.SUBMIT,
        from_state=from_state,
        to_state=State.IN_REVIEW,
        user=user,
        comment=comment.strip(),
    )
    return request


def _locked(request: ReviewRequest, expected: State) -> ReviewRequest:
    request = ReviewRequest.objects.select_for_update().select_related("revision").get(pk=request.pk)
    if request.state != expected:
        raise WorkflowError(
            _("This request is %(state)s, so it cannot be %(action)s.")
            % {
                "state": request.get_state_display(),
                "action": _("reviewed") if expected == State.IN_REVIEW else _("published"),
            }
        )
    return request


def approve(
    *,
    request: ReviewRequest,
    user: AbstractBaseUser,
    last_reviewed: datetime.date | None = None,
    next_review_due: datetime.date | None = None,
    comment: str = "",
) -> ReviewRequest:
    """Sign off exactly the pinned revision's wording, with its review dates."""
    _require(user, "sign_off", _("sign off clinical content"))
    with transaction.atomic():
        request = _locked(request, State.IN_REVIEW)
        if request.authors.filter(pk=user.pk).exists():
            raise NotAllowed(
                _("You wrote changes in this version since it was last live, so another reviewer must approve it.")
            )
        proposed_reviewed, proposed_due = default_review_dates(request.page)
        last_reviewed = last_reviewed or proposed_reviewed
        next_review_due = next_review_due or proposed_due
        check_review_dates(last_reviewed, next_review_due)
        try:
            request.wording = publishing.freeze_for_sign_off(request.revision, request.language)
        except publishing.PublishingError as error:
            raise WorkflowError(str(error)) from None
        request.state = State.APPROVED
        request.approved_by = user
        request.approved_at = timezone.now()
        request.approval_comment = comment.strip()
        request.last_reviewed = last_reviewed
        request.next_review_due = next_review_due
        request.save()
        _log(
            request,
            page=request.page_id,
            action=Transition.Action.APPROVE,
            from_state=State.IN_REVIEW,
            to_state=State.APPROVED,
            user=user,
            comment=comment.strip(),
        )
    notifications.approved(request)
    return request


def request_changes(*, request: ReviewRequest, user: AbstractBaseUser, comment: str) -> ReviewRequest:
    """Send the pinned revision back to its authors, saying what must change."""
    _require(user, "sign_off", _("review clinical content"))
    if not comment.strip():
        raise WorkflowError(_("Say what needs to change: the authors read your comment."))
    with transaction.atomic():
        request = _locked(request, State.IN_REVIEW)
        request.state = State.CHANGES_REQUESTED
        request.save(update_fields=["state"])
        _log(
            request,
            page=request.page_id,
            action=Transition.Action.REQUEST_CHANGES,
            from_state=State.IN_REVIEW,
            to_state=State.CHANGES_REQUESTED,
            user=user,
            comment=comment.strip(),
        )
    notifications.changes_requested(request, comment.strip())
    return request


def publish(*, request: ReviewRequest, user: AbstractBaseUser, comment: str = "") -> LiveSnapshot:
    """Make the approved wording of ``request`` live."""
    _require(user, "publish", _("publish pages"))
    with transaction.atomic():
        request = _locked(request, State.APPROVED)
        involved = user.pk == request.approved_by_id or request.authors.filter(pk=user.pk).exists()
        if settings.REVIEW_REQUIRE_THIRD_PERSON and involved:
            raise NotAllowed(_("This site requires a third person to publish: neither an author nor the reviewer may."))
        live = _live(request.page_id, request.language)
        if live is not None and live.revision is not None and live.revision.number > request.revision.number:
            _supersede([request], by=user, reason=_("A newer revision is live."))
            raise WorkflowError(_("A newer revision is already live in this language; this one is superseded."))
        snapshot = publishing.publish(
            page=request.page,
            language=request.language,
            wording=request.wording,
            revision=request.revision,
            last_reviewed=request.last_reviewed,
            next_review_due=request.next_review_due,
            signed_off_by=display_name(request.approved_by),
            published_by=user,
        )
        request.state = State.PUBLISHED
        request.published_by = user
        request.published_at = snapshot.published_at
        request.save(update_fields=["state", "published_by", "published_at"])
        _log(
            request,
            page=request.page_id,
            action=Transition.Action.PUBLISH,
            from_state=State.APPROVED,
            to_state=LIVE,
            user=user,
            comment=comment.strip(),
        )
        older = ReviewRequest.objects.filter(
            page_id=request.page_id,
            language=request.language,
            state__in=OPEN_STATES,
            revision__number__lte=request.revision.number,
        ).exclude(pk=request.pk)
        _supersede(older, by=user, reason=_("A newer revision was published."))
    return snapshot


def reconfirm(
    *,
    page: Page,
    language: str,
    user: AbstractBaseUser,
    last_reviewed: datetime.date | None = None,
    next_review_due: datetime.date | None = None,
    comment: str = "",
) -> LiveSnapshot:
    """Reviewed, no change needed: renew the live version's review dates and
    republish it with the new dates only (the wording stays exactly as it was)."""
    _require(user, "sign_off", _("sign off clinical content"))
    _check_language(language)
    with transaction.atomic():
        page = Page.objects.select_for_update().get(pk=page.pk)
        live = _live(page.pk, language)
        if live is None or live.revision is None:
            raise WorkflowError(_("There is no live version in this language to re-confirm."))
        proposed_reviewed, proposed_due = default_review_dates(page)
        last_reviewed = last_reviewed or proposed_reviewed
        next_review_due = next_review_due or proposed_due
        check_review_dates(last_reviewed, next_review_due)
        now = timezone.now()
        request = ReviewRequest.objects.create(
            page=page,
            language=language,
            revision=live.revision,
            state=State.PUBLISHED,
            submitted_by=user,
            submitted_at=now,
            approved_by=user,
            approved_at=now,
            approval_comment=comment.strip(),
            last_reviewed=last_reviewed,
            next_review_due=next_review_due,
            wording=live.source,
            published_by=user,
            published_at=now,
            is_reconfirmation=True,
        )
        snapshot = publishing.publish(
            page=page,
            language=language,
            wording=live.source,
            revision=live.revision,
            last_reviewed=last_reviewed,
            next_review_due=next_review_due,
            signed_off_by=display_name(user),
            published_by=user,
        )
        _log(
            request,
            page=page,
            action=Transition.Action.RECONFIRM,
            from_state=LIVE,
            to_state=LIVE,
            user=user,
            comment=comment.strip(),
        )
    return snapshot


def withdraw(*, page: Page, user: AbstractBaseUser, reason: str) -> list[LiveSnapshot]:
    """Take a live page off the public site in every language (a safety recall).
    Its address answers 410 Gone with ``reason``; the history keeps everything."""
    _require(user, "withdraw", _("withdraw pages"))
    if not reason.strip():
        raise WorkflowError(_("Say why the page is withdrawn: readers are told."))
    with transaction.atomic():
        try:
            snapshots = publishing.withdraw(page=page, reason=reason)
        except publishing.PublishingError as error:
            raise WorkflowError(str(error)) from None
        _log(
            None,
            page=page,
            action=Transition.Action.WITHDRAW,
            from_state=LIVE,
            to_state=WITHDRAWN,
            user=user,
            comment=reason.strip(),
            languages=sorted(s.language for s in snapshots),
            revision=None,
        )
    return snapshots


def states(page: Page) -> dict[str, str]:
    """Each language's state for ``page``: its open request's, else live, withdrawn or draft."""
    result = {}
    snapshots = {s.language: s for s in LiveSnapshot.objects.filter(page=page)}
    open_requests = {}
    for request in ReviewRequest.objects.filter(page=page, state__in=OPEN_STATES).order_by("submitted_at"):
        open_requests[request.language] = request.state
    for code in site_languages.codes():
        snapshot = snapshots.get(code)
        if code in open_requests:
            result[code] = open_requests[code]
        elif snapshot is not None:
            result[code] = WITHDRAWN if snapshot.withdrawn_at else LIVE
        else:
            result[code] = DRAFT
    return result
