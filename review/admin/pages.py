"""The pages list and page form with the workflow: each language's state and review
date in the list, its queues and filters, the steps a person may take now on the page
form, the reviews falling due, and each revision's sign-offs in its history. The
steps' own screens are in ``steps``.

Every view checks permission on the server; buttons are only a convenience.
"""

import datetime

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from pages import languages, moves
from pages.admin import PageAdmin
from pages.models import LiveSnapshot, Page, PageRevision
from review import reminders, selectors, services
from review.admin.steps import WorkflowSteps
from review.forms import SubmitForm
from review.models import OPEN_STATES, ReviewRequest, ScheduledStep, State


class WorkflowFilter(admin.SimpleListFilter):
    title = _("workflow")
    parameter_name = "workflow"

    def lookups(self, request, model_admin):
        return [
            ("mine", _("My queue")),
            (State.IN_REVIEW, _("In review")),
            (State.APPROVED, _("Approved, not live")),
            (State.CHANGES_REQUESTED, _("Changes requested")),
            ("withdrawn", _("Withdrawn")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "mine":
            return queryset.filter(pk__in=selectors.my_queue(request.user).values("page_id"))
        if value in (State.IN_REVIEW, State.APPROVED, State.CHANGES_REQUESTED):
            return queryset.filter(pk__in=ReviewRequest.objects.filter(state=value).values("page_id"))
        if value == "withdrawn":
            return queryset.filter(pk__in=LiveSnapshot.objects.filter(withdrawn_at__isnull=False).values("page_id"))
        return queryset


class ReviewDueFilter(admin.SimpleListFilter):
    title = _("clinical review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            *((str(days), _("Due within %(days)s days") % {"days": days}) for days in selectors.DUE_WITHIN_DAYS),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        live = LiveSnapshot.objects.live()
        if self.value() == "overdue":
            return queryset.filter(pk__in=live.filter(next_review_due__lt=today).values("page_id"))
        if self.value() in {str(days) for days in selectors.DUE_WITHIN_DAYS}:
            horizon = today + datetime.timedelta(days=int(self.value()))
            return queryset.filter(pk__in=live.filter(next_review_due__lte=horizon).values("page_id"))
        return queryset


class PageChangeList(ChangeList):
    """The page list, each page of it knowing which languages changed since they were live."""

    def get_results(self, request):
        super().get_results(request)
        live_numbers = {
            page.pk: {s.language: s.revision.number for s in page.snapshots.all() if s.revision and not s.withdrawn_at}
            for page in self.result_list
        }
        changed = selectors.languages_changed_since_live(live_numbers)
        for page in self.result_list:
            page.changed_since_live = changed[page.pk]


class WorkflowPageAdmin(WorkflowSteps, PageAdmin):
    change_form_template = "admin/review/page_change_form.html"
    change_list_template = "admin/review/page_change_list.html"
    list_display = ("listed_title", "path", "owner", "workflow_states", "review_due", "updated_at")
    list_filter = (WorkflowFilter, ReviewDueFilter, *PageAdmin.list_filter)

    def get_changelist(self, request, **kwargs):
        return PageChangeList

    def get_queryset(self, request):
        snapshots = Prefetch(
            "snapshots",
            queryset=LiveSnapshot.objects.only(
                "page_id", "language", "withdrawn_at", "next_review_due", "revision__number"
            ).select_related("revision"),
        )
        open_requests = Prefetch(
            "review_requests",
            queryset=ReviewRequest.objects.filter(state__in=OPEN_STATES).only("page_id", "language", "state"),
            to_attr="open_requests",
        )
        latest = PageRevision.objects.filter(page=OuterRef("pk")).order_by("-number")
        # Skips PageAdmin's own prefetch of snapshots, which this one replaces.
        return (
            super(PageAdmin, self)
            .get_queryset(request)
            .select_related("owner")
            .prefetch_related(snapshots, open_requests)
            # A subquery rather than a join and GROUP BY: the list's counts, which leave it out,
            # then count pages alone, in milliseconds at any size.
            .annotate(latest_revision=Subquery(latest.values("number")[:1]))
        )

    @admin.display(description=_("state"))
    def workflow_states(self, page):
        return "; ".join(f"{code}: {label}" for code, label in selectors.language_states(page).items())

    @admin.display(description=_("next review due"))
    def review_due(self, page):
        dates = [s.next_review_due for s in page.snapshots.all() if not s.withdrawn_at]
        if not dates:
            return "—"
        return review_badge(min(dates))

    def history_view(self, request, object_id, extra_context=None):
        """The page's history, each revision with its sign-offs."""
        response = super().history_view(request, object_id, extra_context)
        rows = response.context_data["rows"]
        reviews = selectors.sign_offs_by_revision([row["revision"].pk for row in rows])
        for row in rows:
            row["reviews"] = reviews.get(row["revision"].pk, [])
        response.template_name = "admin/review/page_history.html"
        return response

    # A public page's place changes through a publisher's move, never the page form.

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and moves.has_public_place(obj):
            return (*readonly, *moves.PLACE_FIELDS)
        return readonly

    def save_model(self, request, obj, form, change):
        place = [name for name in moves.PLACE_FIELDS if name in form.changed_data] if change else []
        if not place:
            return super().save_model(request, obj, form, change)
        # A page never public: its editor moves it, through the same move as a publisher's.
        parent, slug, position = obj.parent, obj.slug, obj.position
        obj.parent_id, obj.slug, obj.position = Page.objects.values_list("parent_id", "slug", "position").get(pk=obj.pk)
        super().save_model(request, obj, form, change)
        try:
            services.move(
                page=obj,
                parent=parent,
                slug=slug,
                position=position,
                user=request.user,
                comment=form.cleaned_data["change_comment"],
            )
        except services.NotAllowed as error:
            raise PermissionDenied(str(error)) from None
        obj.refresh_from_db()

    # The page form shows the steps this person may take now, and no others.

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not (object_id.isascii() and object_id.isdigit()):  # such as "3/compare", from a mistyped address
            raise Http404("No page has this address in the admin.")
        page = Page.objects.filter(pk=object_id).first()
        if page is not None and self.has_view_permission(request, page):
            overdue = (
                LiveSnapshot.objects.filter(page=page, next_review_due__lt=timezone.localdate())
                .live()
                .order_by("next_review_due")
            )
            extra_context = (extra_context or {}) | {
                "workflow": self._workflow_panel(request, page),
                "overdue": [(languages.local_name(s.language), s.next_review_due) for s in overdue],
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def reviews_due_view(self, request):
        """Live versions whose review is overdue or due within 90 days, by owner and language."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        buckets, by_owner = selectors.reviews_due(today)
        context = self.admin_site.each_context(request) | {
            "title": _t("Reviews due"),
            "opts": self.opts,
            "today": today,
            "sections": [
                (_t("Overdue"), buckets["overdue"], "overdue"),
                (_t("Due within 30 days"), buckets["30"], "30"),
                (_t("Due in 31 to 60 days"), buckets["60"], "60"),
                (_t("Due in 61 to 90 days"), buckets["90"], "90"),
            ],
            "shown": selectors.REVIEWS_DUE_SHOWN,
            "by_owner": by_owner,
        }
        return TemplateResponse(request, "admin/review/reviews_due.html", context)

    def _workflow_panel(self, request, page: Page) -> dict:
        user = request.user
        latest = PageRevision.objects.latest_for(page)
        snapshots = {
            s.language: s for s in LiveSnapshot.objects.filter(page=page).select_related("revision", "published_by")
        }
        open_requests = {}
        for review in (
            selectors.open_requests(page).select_related("revision", "submitted_by").prefetch_related("authors")
        ):
            open_requests.setdefault(review.language, []).append(review)
        waiting = list(ScheduledStep.objects.filter(page=page, outcome=ScheduledStep.Outcome.WAITING))
        scheduled = {step.request_id: step for step in waiting if step.request_id}
        rows = []
        for code in languages.codes():
            snapshot = snapshots.get(code)
            live = snapshot if snapshot and not snapshot.withdrawn_at else None
            requests = []
            for review in open_requests.get(code, []):
                is_author = selectors.is_author(user, review)
                requests.append(
                    {
                        "request": review,
                        "can_review": review.state == State.IN_REVIEW
                        and user.has_perm("review.sign_off")
                        and not is_author,
                        "is_author": is_author,
                        "can_publish": review.state == State.APPROVED and user.has_perm("review.publish"),
                        "scheduled": scheduled.get(review.pk),
                    }
                )
            rows.append(
                {
                    "code": code,
                    "name": languages.local_name(code),
                    "snapshot": snapshot,
                    "live": live,
                    "requests": requests,
                    "can_reconfirm": live is not None and user.has_perm("review.sign_off"),
                }
            )
        # Languages in which the latest revision can be submitted (the submission's own rule).
        submittable = [
            (row["code"], row["name"])
            for row in rows
            if latest is not None
            and selectors.submission_refusal(
                latest, row["code"], row["live"], [item["request"] for item in row["requests"]]
            )
            is None
        ]
        # Ticked and marked: the languages whose readers would see a change, and those never live.
        live = {row["code"]: row["live"] for row in rows}
        changed = {
            code for code, _name in submittable if selectors.wording_changed_since_live(latest, code, live[code])
        }
        submit_form = SubmitForm(initial={"languages": sorted(changed)})
        submit_form.fields["languages"].choices = [
            (code, _submit_label(name, code in changed, live[code])) for code, name in submittable
        ]
        return {
            "rows": rows,
            "latest": latest,
            "can_move": user.has_perm("review.publish") and moves.has_public_place(page),
            "can_submit": bool(submittable) and user.has_perm("review.submit_for_review"),
            "can_withdraw": user.has_perm("review.withdraw") and any(r["live"] for r in rows),
            "submit_form": submit_form,
            "withdrawal": next((step for step in waiting if step.action == ScheduledStep.Action.WITHDRAW), None),
        }


def _submit_label(name: str, changed: bool, live) -> str:
    if not changed:
        return name
    if live is None:
        return _t("%(language)s (not live yet)") % {"language": name}
    return _t("%(language)s (changed since the live version)") % {"language": name}


def review_badge(due: datetime.date):
    """The due date, marked when the review is overdue or comes within 60 days."""
    days = (due - timezone.localdate()).days
    if days < 0:
        return format_html('<span class="review-badge overdue">{} · {}</span>', date_format(due), _t("overdue"))
    if days <= max(reminders.lead_times(), default=60):
        return format_html('<span class="review-badge due-soon">{} · {}</span>', date_format(due), _t("due soon"))
    return date_format(due)


admin.site.unregister(Page)
admin.site.register(Page, WorkflowPageAdmin)
