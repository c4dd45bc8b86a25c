"""The review dates of a sign-off: when the wording was last reviewed, and when it is
next due. One rule, for approving and re-confirming alike."""

import calendar
import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from pages.models import Page, PageRevision
from review.errors import WorkflowError


def add_months(date: datetime.date, months: int) -> datetime.date:
    """``date`` moved on by ``months``; the 31st becomes the month's last day."""
    years, month_index = divmod(date.month - 1 + months, 12)
    year, month = date.year + years, month_index + 1
    return date.replace(year=year, month=month, day=min(date.day, calendar.monthrange(year, month)[1]))


def default_review_dates(page: Page, today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """Reviewed today, next due one review interval from now: what the forms propose."""
    today = today or timezone.localdate()
    return today, add_months(today, page.review_interval_months)


def check_review_dates(
    *, page: Page, revision: PageRevision, last_reviewed: datetime.date, next_review_due: datetime.date
) -> None:
    """Raise WorkflowError unless the dates can stand on a sign-off of ``revision``: the
    review happened between the writing of that wording and today, and the next one is
    due in the future, at most the page's review interval after it."""
    today = timezone.localdate()
    written = timezone.localdate(revision.revision.date_created)
    latest_due = add_months(last_reviewed, page.review_interval_months)
    if last_reviewed > today:
        raise WorkflowError(_("The review date cannot be in the future."))
    if next_review_due <= last_reviewed:
        raise WorkflowError(_("The next review must come after the date of this review."))
    if next_review_due <= today:
        raise WorkflowError(_("The next review cannot be due today or in the past."))
    if last_reviewed < written:
        raise WorkflowError(
            _("The review date cannot be before the wording it signs off was written (%(date)s).")
            % {"date": date_format(written)}
        )
    if next_review_due > latest_due:
        raise WorkflowError(
            _(
                "The next review can be due at most %(months)s months after this review (by %(date)s): "
                "that is this page's review interval."
            )
            % {"months": page.review_interval_months, "date": date_format(latest_due)}
        )
