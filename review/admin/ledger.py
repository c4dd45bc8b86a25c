"""The sign-off ledger: every sign-off as it happened, for audits, read-only,
filterable and exportable as CSV."""

import csv
import datetime

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Min, Q
from django.http import StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from pages import languages
from pages.admin import ReadOnlyAdmin
from pages.people import display_name
from review.admin.common import address, author_names, with_page_path
from review.models import ReviewRequest, State

User = get_user_model()


class PersonFilter(admin.SimpleListFilter):
    title = _("person")
    parameter_name = "person"

    def lookups(self, request, model_admin):
        return [(user.pk, display_name(user)) for user in User.objects.filter(is_staff=True)]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        try:
            person = int(self.value())
        except ValueError:
            return queryset.none()
        people = Q(authors=person) | Q(submitted_by=person) | Q(approved_by=person) | Q(published_by=person)
        return queryset.filter(pk__in=ReviewRequest.objects.filter(people).values("pk"))


class YearFilter(admin.SimpleListFilter):
    """The year a sign-off was approved in: each year from the first sign-off's to the
    last's, found at the two ends of an index (a date hierarchy would read every row)."""

    title = _("year approved")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        span = ReviewRequest.objects.aggregate(first=Min("approved_at"), last=Max("approved_at"))
        if span["first"] is None:
            return []
        first, last = (timezone.localtime(span[end]).year for end in ("first", "last"))
        return [(str(year), str(year)) for year in range(last, first - 1, -1)]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if self.value() not in dict(self.lookup_choices):
            return queryset.none()
        return queryset.filter(approved_at__year=int(self.value()))


class ApprovedDateFilter(admin.DateFieldListFilter):
    """When a sign-off was approved; every sign-off has that date, so no "No date"."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.links = tuple((title, query) for title, query in self.links if self.lookup_kwarg_isnull not in query)


class StateFilter(admin.SimpleListFilter):
    """The states a sign-off can be in: approved, and then published or superseded."""

    title = _("state")
    parameter_name = "state__exact"
    STATES = (State.APPROVED, State.PUBLISHED, State.SUPERSEDED)

    def lookups(self, request, model_admin):
        return [(state.value, state.label) for state in self.STATES]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(state=self.value()) if self.value() in self.STATES else queryset.none()


class LanguageFilter(admin.SimpleListFilter):
    title = _("language")
    parameter_name = "language"

    def lookups(self, request, model_admin):
        return languages.choices()

    def queryset(self, request, queryset):
        return queryset.filter(language=self.value()) if self.value() else queryset


@admin.register(ReviewRequest)
class LedgerAdmin(ReadOnlyAdmin):
    """Sign-offs as they happened: read-only, filterable, exportable as CSV."""

    # Five columns, each fact with its companions (who with when, the sign-off with the review
    # dates it set, the state with the publication), so that the list reads at a laptop's width;
    # the sign-off's own view and the CSV have every field on its own.
    list_display = ("page_revision", "author_names", "signed_off", "state_and_publication", "comment")
    list_filter = (YearFilter, ("approved_at", ApprovedDateFilter), LanguageFilter, PersonFilter, StateFilter)
    search_fields = ["page__path"]
    list_select_related = ("revision", "approved_by", "published_by")
    show_full_result_count = False
    # Read by auditors who may not see drafts: the page by its address, never its working title.
    fields = ("page_link", "language", "revision_number", "author_names", "reviewer", "approved_at")
    fields += ("last_reviewed", "next_review_due", "publisher", "published_at", "state", "approval_comment")
    readonly_fields = fields

    CSV_COLUMNS = (
        "page", "language", "revision", "authors", "submitted by", "submitted", "reviewer", "approved",
        "last reviewed", "next review due", "publisher", "published", "state", "reconfirmation", "comment",
    )  # fmt: skip

    def get_queryset(self, request):
        reviews = super().get_queryset(request).filter(approved_at__isnull=False).prefetch_related("authors")
        return with_page_path(reviews)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.has_perm("review.view_ledger")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    @admin.display(description=_("page"), ordering="page_path")
    def page_link(self, review):
        return address(review)

    @admin.display(description=_("page and revision"), ordering="page_path")
    def page_revision(self, review):
        # The address reads left to right in Arabic too.
        return format_html(
            '<span dir="ltr">{}</span><br><span class="quiet"><span lang="{}">{}</span>, {}</span>',
            address(review),
            review.language,
            languages.local_name(review.language),
            _t("revision %(number)s") % {"number": review.revision.number},
        )

    @admin.display(description=_("signed off"), ordering="approved_at")
    def signed_off(self, review):
        approved = timezone.localdate(review.approved_at)
        # The day the wording was reviewed is the day it was signed off, unless the reviewer said otherwise.
        reviewed = (
            format_html("<br>{}", format_html(_t("last reviewed {date}"), date=_date(review.last_reviewed)))
            if review.last_reviewed and review.last_reviewed != approved
            else ""
        )
        return format_html(
            "{}{}<br>{}",
            _who_and_when(review.approved_by, review.approved_at),
            reviewed,
            format_html(_t("next review due {date}"), date=_date(review.next_review_due)),
        )

    @admin.display(description=_("state"), ordering="state")
    def state_and_publication(self, review):
        if not review.published_at:
            return review.get_state_display()
        published = format_html(_t("published by {name}"), name=_who_and_when(review.published_by, review.published_at))
        return format_html("{}<br>{}", review.get_state_display(), published)

    @admin.display(description=_("reviewer's comment"))
    def comment(self, review):
        # In whichever language the reviewer wrote it, so its own direction.
        return format_html('<div dir="auto">{}</div>', review.approval_comment) if review.approval_comment else "—"

    @admin.display(description=_("revision"), ordering="revision__number")
    def revision_number(self, review):
        return review.revision.number

    @admin.display(description=_("authors"))
    def author_names(self, review):
        return ", ".join(author_names(review)) or "—"

    @admin.display(description=_("reviewer"), ordering="approved_by")
    def reviewer(self, review):
        return display_name(review.approved_by) if review.approved_by else "—"

    @admin.display(description=_("publisher"), ordering="published_by")
    def publisher(self, review):
        return display_name(review.published_by) if review.published_by else "—"

    def get_urls(self):
        export = path("export.csv", self.admin_site.admin_view(self.export_view), name="review_reviewrequest_export")
        return [export, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        query = request.GET.urlencode()
        export_url = reverse("admin:review_reviewrequest_export") + (f"?{query}" if query else "")
        return super().changelist_view(request, (extra_context or {}) | {"export_url": export_url})

    def export_view(self, request):
        """The ledger as filtered, as CSV, streamed: written as it is read, a chunk of rows
        at a time, so that a national site's ledger costs no more memory than a small one's."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = self.get_changelist_instance(request).get_queryset(request)
        rows = rows.select_related("submitted_by", "approved_by", "published_by", "revision").order_by(
            "approved_at", "pk"
        )
        response = StreamingHttpResponse(self._csv_lines(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="sign-offs-{datetime.date.today():%Y-%m-%d}.csv"'
        return response

    def _csv_lines(self, rows):
        line = _Line()
        writer = csv.writer(line)
        yield writer.writerow(self.CSV_COLUMNS)
        for review in rows.iterator(chunk_size=EXPORT_CHUNK):
            cells = [
                address(review),
                review.language,
                review.revision.number,
                "; ".join(author_names(review)),
                display_name(review.submitted_by) if review.submitted_by else "",
                _iso(review.submitted_at),
                display_name(review.approved_by) if review.approved_by else "",
                _iso(review.approved_at),
                _iso(review.last_reviewed),
                _iso(review.next_review_due),
                display_name(review.published_by) if review.published_by else "",
                _iso(review.published_at),
                review.state,
                "yes" if review.is_reconfirmation else "no",
                review.approval_comment,
            ]
            # Any cell may hold someone's words (a name, an address, a comment).
            yield writer.writerow([_csv_safe(str(cell)) for cell in cells])


def _date(value):
    """A day, kept on one line."""
    if value is None:
        return "—"
    day = date_format(timezone.localtime(value) if isinstance(value, datetime.datetime) else value)
    return format_html('<span class="nowrap">{}</span>', day)


def _who_and_when(user, moment):
    # A name keeps its own direction (and its brackets), whichever the admin's language.
    name = display_name(user) if user else "—"
    return format_html('<bdi>{}</bdi><br><span class="quiet">{}</span>', name, _date(moment))


# Rows read from the database at a time while exporting (their authors with them).
EXPORT_CHUNK = 2000


class _Line:
    """What the CSV writer writes to: it hands each line back, to be streamed."""

    def write(self, line: str) -> str:
        return line


def _iso(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    return value.isoformat()


def _csv_safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
