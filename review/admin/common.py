"""What the workflow's admin screens share: a page's address by its id (the
records of a deleted page stay), the ledger's names, and 403 for a step a
person may not take."""

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _t

from pages.models import Page
from pages.people import display_name
from review import services


def with_page_path(queryset):
    """``queryset`` with each row's page's address as ``page_path``: not a join, since
    the records of a deleted page stay in the ledger and the log."""
    return queryset.annotate(page_path=Subquery(Page.objects.filter(pk=OuterRef("page_id")).values("path")[:1]))


def address(row) -> str:
    return f"/{row.page_path}/" if row.page_path else _t("a deleted page (%s)") % row.page_id


def author_names(review) -> list[str]:
    """The request's authors by name, in alphabetical order (the same in the list and the export)."""
    return sorted((display_name(user) for user in review.authors.all()), key=str.casefold)


def forbid_if_not_allowed(error: services.WorkflowError) -> None:
    """A step the person has no right to take answers 403, whichever screen asked for it."""
    if isinstance(error, services.NotAllowed):
        raise PermissionDenied(str(error)) from None
