"""The sign-off workflow: the only way wording reaches the public from the admin.

draft → in review → changes requested | approved → live, per page and language.
Each function checks the person's permission itself (never trust a hidden
button), does its work in one transaction, writes one immutable log row per
step, and queues its e-mails, which are sent after the transaction commits so
that a mail failure never undoes or blocks a step.
"""

import contextlib
import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pages import history, moves, publishing
from pages import languages as site_languages
from pages.errors import PublishingError
from pages.models import LiveSnapshot, Page, PageRevision
from pages.people import display_name
from review import notifications, selectors
from review.dates import check_review_dates, default_review_dates
from review.errors import CannotPublish, NotAllowed, WorkflowError
from review.models import OPEN_STATES, ReviewRequest, ScheduledStep, State, Transition

DRAFT = "draft"
LIVE = "live"
WITHDRAWN = "withdrawn"

# The longest comment a step keeps (and e-mails): the admin's forms say the same.
COMMENT_MAX_LENGTH = 4000


def require(user: AbstractBaseUser, permission: str, doing: str) -> None:
    if not (user.is_active and user.has_perm(f"review.{permission}")):
        raise NotAllowed(_("You do not have permission to %s.") % doing)


def check_language(language: str) -> None:
    with _publishing_refusals():
        site_languages.check(language)


@contextlib.contextmanager
def _publishing_refusals():
    """Publishing's refusals, as the workflow's: a CannotPublish that keeps the original."""
    try:
        yield
    except PublishingError as error:
        raise CannotPublish(error) from error


def clean_comment(text: str | None, *, required: str | None = None) -> str:
    """``text`` as a step keeps it: stripped, at most COMMENT_MAX_LENGTH characters,
    without NUL characters. ``required`` is the message when it may not be empty."""
    text = (text or "").strip()
    if required and not text:
        raise WorkflowError(required)
    if "\x00" in text:
        raise WorkflowError(_("The comment holds a NUL character; remove it and try again."))
    if len(text) > COMMENT_MAX_LENGTH:
        raise WorkflowError(
            _("The comment is %(length)s characters long; keep it to %(limit)s.")
            % {"length": len(text), "limit": COMMENT_MAX_LENGTH}
        )
    return text


def log_step(
    request: ReviewRequest | None, *, page, action, from_state, to_state, user, comment="", **extra
) -> Transition:
    """One immutable row of the workflow log."""
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


def _supersede(requests, *, by: AbstractBaseUser | None, reason: str) -> None:
    for old in requests:
        log_step(
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
    require(user, "submit_for_review", _("submit pages for review"))
    comment = clean_comment(comment)
    languages = list(dict.fromkeys(languages))
    if not languages:
        raise WorkflowError(_("Choose at least one language to submit."))
    for language in languages:
        check_language(language)
    with transaction.atomic():
        page = Page.objects.select_for_update().get(pk=page.pk)
        revision = revision or PageRevision.objects.latest_for(page)
        if revision is None or revision.page_id != page.pk:
            raise WorkflowError(_("This page has no saved revision to submit."))
        created = []
        for language in languages:
            created.append(_submit_one(page, revision, language, user, comment))
    notifications.submitted(created, comment)
    return created


def _submit_one(page: Page, revision: PageRevision, language: str, user, comment: str) -> ReviewRequest:
    live = selectors.live_version(page.pk, language)
    if refusal := selectors.not_newer_than_live(revision, language, live):
        raise WorkflowError(refusal)
    with _publishing_refusals():
        wording = publishing.freeze_for_sign_off(revision, language)
    if live is not None and live.source == wording:
        raise WorkflowError(
            _(
                "Nothing in the %(name)s wording has changed since the live version. To renew its review dates, "
                "a reviewer can mark it “Reviewed, no change needed”."
            )
            % {"name": site_languages.local_name(language)}
        )
    open_requests = ReviewRequest.objects.select_for_update().filter(
        page=page, language=language, state__in=OPEN_STATES
    )
    if refusal := selectors.already_submitted(revision, language, open_requests):
        raise WorkflowError(refusal)
    previous = [r for r in open_requests if r.state != State.APPROVED]
    from_state = previous[0].state if previous else (LIVE if live else DRAFT)
    _supersede(previous, by=user, reason=_("A newer revision was submitted."))
    request = ReviewRequest.objects.create(
        page=page, language=language, revision=revision, submitted_by=user, submitted_at=timezone.now()
    )
    request.authors.set(selectors.authors_since_live(revision, language))
    log_step(
        request,
        page=page,
        action=Transition.Action.SUBMIT,
        from_state=from_state,
        to_state=State.IN_REVIEW,
        user=user,
        comment=comment,
    )
    return request


def _locked(request: ReviewRequest, expected: State) -> ReviewRequest:
    request = ReviewRequest.objects.select_for_update().select_related("revision__revision").get(pk=request.pk)
    if request.state != expected:
        message = (
            _("This request is %(state)s, so it cannot be reviewed.")
            if expected == State.IN_REVIEW
            else _("This request is %(state)s, so it cannot be published.")
        )
        raise WorkflowError(message % {"state": request.get_state_display()})
    return request


def approve(
    *,
    request: ReviewRequest,
    user: AbstractBaseUser,
    last_reviewed: datetime.date | None = None,
    next_review_due: datetime.date | None = None,
    comment: str = "",
) -> ReviewRequest:
    """Sign off exactly the pinned revision's wording, with its review dates.
    Raises NotAllowed for anyone who wrote a change in it since it was last live."""
    require(user, "sign_off", _("sign off clinical content"))
    comment = clean_comment(comment)
    with transaction.atomic():
        request = _locked(request, State.IN_REVIEW)
        if selectors.is_author(user, request):
            raise NotAllowed(
                _("You wrote changes in this version since it was last live, so another reviewer must approve it.")
            )
        proposed_reviewed, proposed_due = default_review_dates(request.page)
        last_reviewed = last_reviewed or proposed_reviewed
        next_review_due = next_review_due or proposed_due
        check_review_dates(
            page=request.page, revision=request.revision, last_reviewed=last_reviewed, next_review_due=next_review_due
        )
        with _publishing_refusals():
            request.wording = publishing.freeze_for_sign_off(request.revision, request.language)
        request.state = State.APPROVED
        request.approved_by = user
        request.approved_at = timezone.now()
        request.approval_comment = comment
        request.last_reviewed = last_reviewed
        request.next_review_due = next_review_due
        request.save()
        log_step(
            request,
            page=request.page_id,
            action=Transition.Action.APPROVE,
            from_state=State.IN_REVIEW,
            to_state=State.APPROVED,
            user=user,
            comment=comment,
        )
    notifications.approved(request)
    return request


def request_changes(*, request: ReviewRequest, user: AbstractBaseUser, comment: str) -> ReviewRequest:
    """Send the pinned revision back to its authors, saying what must change."""
    require(user, "sign_off", _("review clinical content"))
    comment = clean_comment(comment, required=_("Say what needs to change: the authors read your comment."))
    with transaction.atomic():
        request = _locked(request, State.IN_REVIEW)
        request.state = State.CHANGES_REQUESTED
        request.save(update_fields=["state"])
        log_step(
            request,
            page=request.page_id,
            action=Transition.Action.REQUEST_CHANGES,
            from_state=State.IN_REVIEW,
            to_state=State.CHANGES_REQUESTED,
            user=user,
            comment=comment,
        )
    notifications.changes_requested(request, comment)
    return request


def check_publisher(user: AbstractBaseUser, request: ReviewRequest) -> None:
    """Where the site requires a third person to publish, refuse the reviewer and the authors."""
    involved = user.pk == request.approved_by_id or selectors.is_author(user, request)
    if settings.REVIEW_REQUIRE_THIRD_PERSON and involved:
        raise NotAllowed(_("This site requires a third person to publish: neither an author nor the reviewer may."))


def publish(*, request: ReviewRequest, user: AbstractBaseUser, comment: str = "") -> LiveSnapshot:
    """Make the approved wording of ``request`` live. Refuses an approval older than the
    page's last withdrawal: a recalled page comes back only through a new sign-off."""
    require(user, "publish", _("publish pages"))
    comment = clean_comment(comment)
    with transaction.atomic():
        # The live site first, then the rows: every change to it takes its locks in this order.
        publishing.lock_live_site()
        request = _locked(request, State.APPROVED)
        check_publisher(user, request)
        live = selectors.live_version(request.page_id, request.language)
        if live is not None and live.revision is not None and live.revision.number > request.revision.number:
            _supersede([request], by=user, reason=_("A newer revision is live."))
            raise WorkflowError(_("A newer revision is already live in this language; this one is superseded."))
        withdrawn_at = selectors.last_withdrawn_at(request.page_id)
        if withdrawn_at is not None and request.approved_at <= withdrawn_at:
            raise WorkflowError(
                _("The page was withdrawn after this version was approved: it needs a new sign-off to come back.")
            )
        with _publishing_refusals():
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
        log_step(
            request,
            page=request.page_id,
            action=Transition.Action.PUBLISH,
            from_state=State.APPROVED,
            to_state=LIVE,
            user=user,
            comment=comment,
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
    republish it with the new dates only (the wording stays exactly as it was).
    The four-eyes rule of approving holds: raises NotAllowed for an author of that version."""
    require(user, "sign_off", _("sign off clinical content"))
    check_language(language)
    comment = clean_comment(comment)
    with transaction.atomic():
        # Taken before reading what is live, so that a withdrawal cannot slip in between.
        publishing.lock_live_site()
        page = Page.objects.select_for_update().get(pk=page.pk)
        live = selectors.live_version(page.pk, language)
        if live is None or live.revision is None:
            raise WorkflowError(_("There is no live version in this language to re-confirm."))
        authors = selectors.live_authors(live)
        if user.pk in authors:
            raise NotAllowed(_("You wrote changes in the live version, so another reviewer must re-confirm it."))
        proposed_reviewed, proposed_due = default_review_dates(page)
        last_reviewed = last_reviewed or proposed_reviewed
        next_review_due = next_review_due or proposed_due
        check_review_dates(
            page=page, revision=live.revision, last_reviewed=last_reviewed, next_review_due=next_review_due
        )
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
            approval_comment=comment,
            last_reviewed=last_reviewed,
            next_review_due=next_review_due,
            wording=live.source,
            published_by=user,
            published_at=now,
            is_reconfirmation=True,
        )
        # The authors stay with the version, so that none of them re-confirms it later either.
        request.authors.set(authors)
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
        log_step(
            request,
            page=page,
            action=Transition.Action.RECONFIRM,
            from_state=LIVE,
            to_state=LIVE,
            user=user,
            comment=comment,
        )
    return snapshot


def withdraw(
    *, page: Page, user: AbstractBaseUser, reason: str, translations: dict[str, str] | None = None
) -> list[LiveSnapshot]:
    """Take a live page off the public site in every language (a safety recall).
    Its address answers 410 Gone with ``reason`` (in the source language), or its
    translation in ``translations`` where there is one; the history keeps everything.
    Every open request of the page, in every language, is superseded: the page comes
    back only through a new submit, approve and publish."""
    require(user, "withdraw", _("withdraw pages"))
    reason = clean_comment(reason, required=_("Say why the page is withdrawn: readers are told."))
    translations = {code: clean_comment(text) for code, text in (translations or {}).items() if (text or "").strip()}
    for code in translations:
        check_language(code)
    with transaction.atomic():
        publishing.lock_live_site()
        with _publishing_refusals():
            snapshots = publishing.withdraw(page=page, reason=reason, translations=translations)
        given = [reason] + [
            f"{site_languages.local_name(code)}: {text}"
            for code, text in translations.items()
            if code != site_languages.source()
        ]
        log_step(
            None,
            page=page,
            action=Transition.Action.WITHDRAW,
            from_state=LIVE,
            to_state=WITHDRAWN,
            user=user,
            comment="\n".join(given),
            languages=sorted(s.language for s in snapshots),
            revision=None,
        )
        open_requests = ReviewRequest.objects.select_for_update().filter(page=page, state__in=OPEN_STATES)
        _supersede(open_requests.order_by("pk"), by=user, reason=_("The page was withdrawn: %s") % reason)
        # Nothing scheduled before the recall happens after it: not a publish of an approval it
        # superseded, nor a withdrawal that would take down the page once it is signed off again.
        ScheduledStep.objects.filter(page=page, outcome=ScheduledStep.Outcome.WAITING).update(
            outcome=ScheduledStep.Outcome.CANCELLED,
            finished_at=timezone.now(),
            note=_("Cancelled: the page was withdrawn."),
        )
    return snapshots


def move(*, page: Page, parent: Page | None, slug: str, position: int, user: AbstractBaseUser, comment: str) -> Page:
    """Move ``page`` (and everything below it) to a new parent, address or position.

    Where the page or a page below it has been public, that is a change to the live site
    and only a publisher makes it (raises NotAllowed otherwise); it takes effect at once in
    every language, old addresses answer 301 for good, and it is logged. Pages never public
    are moved by anyone who may edit them. Raises WorkflowError when the place is not valid."""
    comment = clean_comment(comment, required=_("Say why the page moves: it is kept in its history."))
    with transaction.atomic():
        # Before asking whether the page is public: a first publish cannot slip in between.
        publishing.lock_live_site()
        page = Page.objects.select_for_update().get(pk=page.pk)
        public = moves.has_public_place(page)
        if public:
            require(user, "publish", _("move pages that are, or have been, public"))
        elif not (user.is_active and user.has_perm("pages.change_page")):
            raise NotAllowed(_("You do not have permission to %s.") % _("move pages"))
        old_path = page.path
        try:
            with history.revision(user=user, comment=comment):
                page = moves.move_page(page=page, parent=parent, slug=slug, position=position)
        except moves.MoveError as error:
            raise WorkflowError(str(error)) from None
        if public:
            live = LiveSnapshot.objects.filter(page=page).live().values_list("language", flat=True)
            log_step(
                None,
                page=page,
                action=Transition.Action.MOVE,
                from_state=LIVE,
                to_state=LIVE,
                user=user,
                comment=f"/{old_path}/ → /{page.path}/: {comment}" if old_path != page.path else comment,
                languages=sorted(live),
                revision=None,
            )
    return page
