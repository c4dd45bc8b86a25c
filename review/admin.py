"""The sign-off workflow in the admin: states and queues in the page list, the
steps a person may take now on the page form, the review screen with its diff
and preview, and the sign-off ledger for audits.

Every view checks permission on the server; buttons are only a convenience.
"""

import csv
import dataclasses
import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Max, OuterRef, Prefetch, Q, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from pages import diffs, history, languages, moves, publishing
from pages.admin import PageAdmin, ReadOnlyAdmin
from pages.history import PageState
from pages.models import LiveSnapshot, Page, PageRevision, slug_validator
from pages.rendering import page_context
from review import reminders, services
from review.models import OPEN_STATES, Notification, Profile, ReviewRequest, State, Transition

User = get_user_model()


def may_see_drafts(user) -> bool:
    """Whether ``user`` may read unpublished wording. Rights are per role, the same
    for every page; this is the one place to narrow them per page."""
    return user.is_active and user.is_staff and user.has_perm("pages.view_page")


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
            return queryset.filter(pk__in=my_queue(request.user).values("page_id"))
        if value in (State.IN_REVIEW, State.APPROVED, State.CHANGES_REQUESTED):
            return queryset.filter(pk__in=ReviewRequest.objects.filter(state=value).values("page_id"))
        if value == "withdrawn":
            return queryset.filter(pk__in=LiveSnapshot.objects.filter(withdrawn_at__isnull=False).values("page_id"))
        return queryset


NAME_FIELDS = ("first_name", "last_name", "username")


class ReviewDueFilter(admin.SimpleListFilter):
    title = _("clinical review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("30", _("Due within 30 days")),
            ("60", _("Due within 60 days")),
            ("90", _("Due within 90 days")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        live = LiveSnapshot.objects.filter(withdrawn_at__isnull=True)
        if self.value() == "overdue":
            return queryset.filter(pk__in=live.filter(next_review_due__lt=today).values("page_id"))
        if self.value() in ("30", "60", "90"):
            horizon = today + datetime.timedelta(days=int(self.value()))
            return queryset.filter(pk__in=live.filter(next_review_due__lte=horizon).values("page_id"))
        return queryset


def my_queue(user):
    """The open requests waiting for ``user`` to act."""
    waiting = Q(pk__in=[])
    if user.has_perm("review.sign_off"):
        waiting |= Q(state=State.IN_REVIEW) & ~Q(authors=user)
    if user.has_perm("review.publish"):
        waiting |= Q(state=State.APPROVED)
    if user.has_perm("review.submit_for_review"):
        waiting |= Q(state=State.CHANGES_REQUESTED) & (Q(submitted_by=user) | Q(authors=user))
    return ReviewRequest.objects.filter(waiting)


class SubmitForm(forms.Form):
    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=languages.choices, widget=forms.CheckboxSelectMultiple
    )
    comment = forms.CharField(label=_("Note for the reviewer"), required=False, max_length=2000)


class ReviewDatesForm(forms.Form):
    last_reviewed = forms.DateField(label=_("Last reviewed"), widget=forms.DateInput(attrs={"type": "date"}))
    next_review_due = forms.DateField(label=_("Next review due"), widget=forms.DateInput(attrs={"type": "date"}))
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3, "cols": 80})
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason, shown to readers"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3, "cols": 80})
    )


class MoveForm(forms.Form):
    parent = forms.ModelChoiceField(
        label=_("Parent page"), queryset=Page.objects.all(), required=False, help_text=_("Empty: the top level.")
    )
    slug = forms.CharField(label=_("Slug"), max_length=80, validators=[slug_validator])
    position = forms.IntegerField(label=_("Position among its siblings"), min_value=0)
    comment = forms.CharField(
        label=_("Why it moves"),
        max_length=services.COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text=_("Kept in the page's history and the workflow log."),
    )

    def __init__(self, *args, page: Page, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        below = Page.objects.filter(path__startswith=f"{page.path}/").values("pk")
        parent = self.fields["parent"]
        parent.widget = AutocompleteSelect(Page._meta.get_field("parent"), admin_site)
        parent.queryset = Page.objects.exclude(pk=page.pk).exclude(pk__in=below)  # the widget's choices too


class WorkflowPageAdmin(PageAdmin):
    list_display = ("title", "path", "owner", "workflow_states", "review_due", "updated_at")
    list_filter = (WorkflowFilter, ReviewDueFilter, *PageAdmin.list_filter)

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
        # Skips PageAdmin's own prefetch of snapshots, which this one replaces.
        return (
            super(PageAdmin, self)
            .get_queryset(request)
            .select_related("owner")
            .prefetch_related(snapshots, open_requests)
            .annotate(latest_revision=Max("revisions__number"))
        )

    @admin.display(description=_("state"))
    def workflow_states(self, page):
        return "; ".join(f"{code}: {label}" for code, label in self._states(page).items())

    def _states(self, page) -> dict[str, str]:
        requests = {r.language: r for r in page.open_requests}
        snapshots = {s.language: s for s in page.snapshots.all()}
        states = {}
        for code in languages.codes():
            snapshot = snapshots.get(code)
            if code in requests:
                states[code] = requests[code].get_state_display()
            elif snapshot is None:
                states[code] = _t("draft")
            elif snapshot.withdrawn_at:
                states[code] = _t("withdrawn")
            elif snapshot.revision and page.latest_revision and page.latest_revision > snapshot.revision.number:
                states[code] = _t("live, with a newer draft")
            else:
                states[code] = _t("live")
        return states

    @admin.display(description=_("next review due"))
    def review_due(self, page):
        dates = [s.next_review_due for s in page.snapshots.all() if not s.withdrawn_at]
        if not dates:
            return "—"
        return review_badge(min(dates))

    def reviews_of(self, revision_ids):
        reviews = {}
        requests = ReviewRequest.objects.filter(revision__in=revision_ids, is_reconfirmation=False)
        for review in requests.select_related("approved_by").order_by("submitted_at", "pk"):
            reviews.setdefault(review.revision_id, []).append(review)
        return reviews

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
        page = Page.objects.filter(pk=object_id).first()
        if page is not None and self.has_view_permission(request, page):
            overdue = LiveSnapshot.objects.filter(
                page=page, withdrawn_at__isnull=True, next_review_due__lt=timezone.localdate()
            ).order_by("next_review_due")
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
        due = (
            LiveSnapshot.objects.filter(withdrawn_at__isnull=True, next_review_due__lte=today + datetime.timedelta(90))
            .select_related("page__owner")
            .only("page_id", "language", "path", "next_review_due", *(f"page__owner__{f}" for f in NAME_FIELDS))
            .order_by("next_review_due", "path", "language")
        )
        buckets = {key: [] for key in ("overdue", "30", "60", "90")}
        by_owner: dict[str, dict[str, int]] = {}
        for snapshot in due:
            days = (snapshot.next_review_due - today).days
            key = "overdue" if days < 0 else "30" if days <= 30 else "60" if days <= 60 else "90"
            owner = snapshot.page.owner
            name = (owner.get_full_name() or owner.get_username()) if owner else _t("no owner")
            buckets[key].append({"snapshot": snapshot, "owner": name, "days": days, "overdue_days": -days})
            counts = by_owner.setdefault(name, {"overdue": 0, "30": 0, "60": 0, "90": 0, "languages": set()})
            counts[key] += 1
            counts["languages"].add(snapshot.language)
        context = self.admin_site.each_context(request) | {
            "title": _t("Reviews due"),
            "opts": self.opts,
            "today": today,
            "sections": [
                (_t("Overdue"), buckets["overdue"]),
                (_t("Due within 30 days"), buckets["30"]),
                (_t("Due in 31 to 60 days"), buckets["60"]),
                (_t("Due in 61 to 90 days"), buckets["90"]),
            ],
            "by_owner": sorted(
                ({"name": name, **row, "languages": sorted(row["languages"])} for name, row in by_owner.items()),
                key=lambda row: (-row["overdue"], row["name"]),
            ),
        }
        return TemplateResponse(request, "admin/review/reviews_due.html", context)

    def _workflow_panel(self, request, page: Page) -> dict:
        user = request.user
        latest = PageRevision.objects.filter(page=page).order_by("-number").first()
        snapshots = {
            s.language: s for s in LiveSnapshot.objects.filter(page=page).select_related("revision", "published_by")
        }
        open_requests = {}
        for review in ReviewRequest.objects.filter(page=page, state__in=OPEN_STATES).select_related(
            "revision", "submitted_by"
        ):
            open_requests.setdefault(review.language, []).append(review)
        rows = []
        for code in languages.codes():
            snapshot = snapshots.get(code)
            live = snapshot if snapshot and not snapshot.withdrawn_at else None
            requests = []
            for review in open_requests.get(code, []):
                is_author = review.authors.filter(pk=user.pk).exists()
                requests.append(
                    {
                        "request": review,
                        "can_review": review.state == State.IN_REVIEW
                        and user.has_perm("review.sign_off")
                        and not is_author,
                        "is_author": is_author,
                        "can_publish": review.state == State.APPROVED and user.has_perm("review.publish"),
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
        # Languages in which the latest revision is newer than what is live and not already in review.
        submittable = [
            (row["code"], row["name"])
            for row in rows
            if latest is not None
            and not (row["live"] and row["live"].revision and row["live"].revision.number >= latest.number)
            and not any(
                item["request"].revision_id == latest.pk and item["request"].state != State.CHANGES_REQUESTED
                for item in row["requests"]
            )
        ]
        submit_form = SubmitForm()
        submit_form.fields["languages"].choices = submittable
        return {
            "rows": rows,
            "latest": latest,
            "can_move": user.has_perm("review.publish") and moves.has_public_place(page),
            "can_submit": bool(submittable) and user.has_perm("review.submit_for_review"),
            "can_withdraw": user.has_perm("review.withdraw") and any(r["live"] for r in rows),
            "submit_form": submit_form,
        }

    def get_urls(self):
        def view(function, name, *, post_only=False):
            function = require_POST(function) if post_only else function
            return self.admin_site.admin_view(function), f"pages_page_{name}"

        routes = [
            ("<int:object_id>/workflow/submit/", *view(self.submit_view, "submit", post_only=True)),
            ("<int:object_id>/workflow/review/<int:request_id>/", *view(self.review_view, "review")),
            ("<int:object_id>/workflow/publish/<int:request_id>/", *view(self.publish_view, "publish", post_only=True)),
            ("<int:object_id>/workflow/reconfirm/<str:language>/", *view(self.reconfirm_view, "reconfirm")),
            ("<int:object_id>/workflow/withdraw/", *view(self.withdraw_view, "withdraw")),
            ("<int:object_id>/workflow/move/", *view(self.move_view, "move")),
            ("<int:object_id>/preview/<int:number>/<str:language>/", *view(never_cache(self.preview_view), "preview")),
        ]
        routes.append(("reviews-due/", *view(self.reviews_due_view, "reviewsdue")))
        return [path(route, function, name=name) for route, function, name in routes] + super().get_urls()

    def _draft_page(self, request, object_id) -> Page:
        # Rights first, so that someone without them cannot even learn which pages exist.
        if not may_see_drafts(request.user):
            raise PermissionDenied
        return get_object_or_404(Page, pk=object_id)

    def _request(self, page: Page, request_id: int) -> ReviewRequest:
        return get_object_or_404(
            ReviewRequest.objects.select_related("revision__revision__user", "submitted_by"), pk=request_id, page=page
        )

    def _back(self, page: Page):
        return redirect("admin:pages_page_change", page.pk)

    def _refused(self, request, error: services.WorkflowError) -> None:
        """A refused step: 403 when the person may not take it, else the reason as a message."""
        _forbid_if_not_allowed(error)
        self.message_user(request, str(error), messages.ERROR)

    def submit_view(self, request, object_id):
        page = self._draft_page(request, object_id)
        form = SubmitForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _t("Choose at least one language to submit."), messages.ERROR)
            return self._back(page)
        try:
            submitted = services.submit(
                page=page,
                languages=form.cleaned_data["languages"],
                user=request.user,
                comment=form.cleaned_data["comment"],
            )
        except services.WorkflowError as error:
            self._refused(request, error)
        else:
            names = ", ".join(languages.local_name(r.language) for r in submitted)
            self.message_user(
                request,
                _t("Revision %(number)s is in review (%(names)s).")
                % {"number": submitted[0].revision.number, "names": names},
            )
        return self._back(page)

    def review_view(self, request, object_id, request_id):
        page = self._draft_page(request, object_id)
        review = self._request(page, request_id)
        if request.method == "POST":
            return self._decide(request, page, review)
        reviewed, due = services.default_review_dates(page)
        form = ReviewDatesForm(initial={"last_reviewed": reviewed, "next_review_due": due})
        return self._review_screen(request, page, review, form)

    def _decide(self, request, page, review):
        form = ReviewDatesForm(request.POST)
        try:
            if "request_changes" in request.POST:
                services.request_changes(request=review, user=request.user, comment=request.POST.get("comment", ""))
                self.message_user(request, _t("Changes requested; the authors have been told."))
                return self._back(page)
            if not form.is_valid():
                return self._review_screen(request, page, review, form, status=400)
            services.approve(
                request=review,
                user=request.user,
                last_reviewed=form.cleaned_data["last_reviewed"],
                next_review_due=form.cleaned_data["next_review_due"],
                comment=form.cleaned_data["comment"],
            )
        except services.WorkflowError as error:
            _forbid_if_not_allowed(error)
            form.add_error(None, str(error))
            return self._review_screen(request, page, review, form, status=400)
        self.message_user(request, _t("Approved. Publishers have been told it is ready."))
        return self._back(page)

    def _review_screen(self, request, page, review, form, status=200):
        live = (
            LiveSnapshot.objects.filter(page=page, language=review.language, withdrawn_at__isnull=True)
            .select_related("revision")
            .first()
        )
        if live is not None and live.revision is not None:
            old = history.page_state(live.revision)
        else:
            old = PageState(page={"id": page.pk}, sections=[])
        comparison = _only_language(
            diffs.compare(old, history.page_state(review.revision), **self._labels()), review.language
        )
        context = self.admin_site.each_context(request) | {
            "title": _t("Review “%(page)s” in %(language)s")
            % {"page": page, "language": languages.local_name(review.language)},
            "opts": self.opts,
            "original": page,
            "review": review,
            "authors": review.authors.all(),
            "live": live,
            "comparison": comparison,
            "form": form,
            "can_decide": review.state == State.IN_REVIEW and request.user.has_perm("review.sign_off"),
            "is_author": review.authors.filter(pk=request.user.pk).exists(),
            "transitions": review.transitions.select_related("user").order_by("at", "pk"),
        }
        return TemplateResponse(request, "admin/review/review.html", context, status=status)

    def publish_view(self, request, object_id, request_id):
        page = self._draft_page(request, object_id)
        review = self._request(page, request_id)
        try:
            services.publish(request=review, user=request.user)
        except services.WorkflowError as error:
            self._refused(request, error)
        else:
            self.message_user(
                request,
                _t("Published: revision %(number)s is live in %(language)s.")
                % {"number": review.revision.number, "language": languages.local_name(review.language)},
            )
        return self._back(page)

    def reconfirm_view(self, request, object_id, language):
        page = self._draft_page(request, object_id)
        if not languages.is_known(language):
            raise Http404(_t("No such language."))
        if not request.user.has_perm("review.sign_off"):
            raise PermissionDenied
        live = get_object_or_404(LiveSnapshot, page=page, language=language, withdrawn_at__isnull=True)
        reviewed, due = services.default_review_dates(page)
        form = ReviewDatesForm(request.POST or None, initial={"last_reviewed": reviewed, "next_review_due": due})
        if request.method == "POST" and form.is_valid():
            try:
                services.reconfirm(page=page, language=language, user=request.user, **form.cleaned_data)
            except services.WorkflowError as error:
                _forbid_if_not_allowed(error)
                form.add_error(None, str(error))
            else:
                self.message_user(request, _t("Re-confirmed: the live version now shows the new review dates."))
                return self._back(page)
        context = self.admin_site.each_context(request) | {
            "title": _t("Reviewed, no change needed: “%(page)s” in %(language)s")
            % {"page": page, "language": languages.local_name(language)},
            "opts": self.opts,
            "original": page,
            "live": live,
            "form": form,
        }
        return TemplateResponse(request, "admin/review/reconfirm.html", context, status=400 if form.errors else 200)

    def withdraw_view(self, request, object_id):
        page = self._draft_page(request, object_id)
        if not request.user.has_perm("review.withdraw"):
            raise PermissionDenied
        form = WithdrawForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.withdraw(page=page, user=request.user, reason=form.cleaned_data["reason"])
            except services.WorkflowError as error:
                _forbid_if_not_allowed(error)
                form.add_error(None, str(error))
            else:
                self.message_user(request, _t("Withdrawn: its address now tells readers it was withdrawn, and why."))
                return self._back(page)
        context = self.admin_site.each_context(request) | {
            "title": _t("Withdraw “%s” from the public site") % page,
            "opts": self.opts,
            "original": page,
            "form": form,
            "live": LiveSnapshot.objects.filter(page=page, withdrawn_at__isnull=True),
        }
        return TemplateResponse(request, "admin/review/withdraw.html", context, status=400 if form.errors else 200)

    def move_view(self, request, object_id):
        page = self._draft_page(request, object_id)
        public = moves.has_public_place(page)
        if not request.user.has_perm("review.publish" if public else "pages.change_page"):
            raise PermissionDenied
        initial = {"parent": page.parent_id, "slug": page.slug, "position": page.position}
        form = MoveForm(request.POST or None, initial=initial, page=page, admin_site=self.admin_site)
        if request.method == "POST" and form.is_valid():
            try:
                moved = services.move(page=page, user=request.user, **form.cleaned_data)
            except services.WorkflowError as error:
                _forbid_if_not_allowed(error)
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    _t("Moved: the page is at /%(path)s/ now; its old addresses lead there.") % {"path": moved.path},
                )
                return self._back(page)
        context = self.admin_site.each_context(request) | {
            "title": _t("Move “%s”") % page,
            "opts": self.opts,
            "original": page,
            "form": form,
            "media": self.media + form.media,
            "is_public": public,
            "below": Page.objects.filter(path__startswith=f"{page.path}/").count(),
            "redirects": page.redirects.all(),
        }
        return TemplateResponse(request, "admin/review/move.html", context, status=400 if form.errors else 200)

    @staticmethod
    def _preview_response(response):
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    def preview_view(self, request, object_id, number, language):
        page = self._draft_page(request, object_id)
        if not languages.is_known(language):
            raise Http404(_t("No such language."))
        revision = self._revision(page, number)
        try:
            wording = publishing.freeze_for_sign_off(revision, language)
        except publishing.PublishingError as error:
            self.message_user(request, str(error), messages.ERROR)
            return self._back(page)
        snapshot = LiveSnapshot(
            page=page,
            language=language,
            path=page.path,
            source=wording,
            languages=[language],
            last_reviewed=timezone.localdate(),
            next_review_due=services.default_review_dates(page)[1],
            signed_off_by="",
        )
        publishing.compose(snapshot)
        with translation.override(language):
            context = page_context(snapshot, language) | {"preview_of": revision, "switcher": []}
            response = TemplateResponse(request, "review/preview.html", context)
            response.render()
        return self._preview_response(response)


def review_badge(due: datetime.date):
    """The due date, marked when the review is overdue or comes within 60 days."""
    days = (due - timezone.localdate()).days
    if days < 0:
        return format_html(
            '<span class="review-badge overdue">{} · {}</span>', date_format(due, "j M Y"), _t("overdue")
        )
    if days <= max(reminders.lead_times(), default=60):
        return format_html(
            '<span class="review-badge due-soon">{} · {}</span>', date_format(due, "j M Y"), _t("due soon")
        )
    return date_format(due, "j M Y")


def _only_language(comparison: diffs.Comparison, language: str) -> diffs.Comparison:
    """``comparison`` with only the wording of ``language`` (structure stays)."""
    sections = [
        dataclasses.replace(s, fields=[f for f in s.fields if f.language == language]) for s in comparison.sections
    ]
    sections = [s for s in sections if s.status != "changed" or any(f.is_changed for f in s.fields)]
    return dataclasses.replace(
        comparison,
        page_fields=[f for f in comparison.page_fields if f.language == language],
        sections=sections,
    )


admin.site.unregister(Page)
admin.site.register(Page, WorkflowPageAdmin)


# The sign-off ledger: every sign-off, for audits.


class PersonFilter(admin.SimpleListFilter):
    title = _("person")
    parameter_name = "person"

    def lookups(self, request, model_admin):
        return [(user.pk, user.get_full_name() or user.get_username()) for user in User.objects.filter(is_staff=True)]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        try:
            person = int(self.value())
        except ValueError:
            return queryset.none()
        people = Q(authors=person) | Q(submitted_by=person) | Q(approved_by=person) | Q(published_by=person)
        return queryset.filter(pk__in=ReviewRequest.objects.filter(people).values("pk"))


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

    list_display = ("page_link", "language", "revision_number", "author_names", "reviewer", "approved_at")
    list_display += ("last_reviewed", "next_review_due", "publisher", "published_at", "state", "approval_comment")
    list_filter = (("approved_at", admin.DateFieldListFilter), LanguageFilter, PersonFilter, "state")
    search_fields = ["page__path"]
    list_select_related = ("revision", "approved_by", "published_by")
    date_hierarchy = "approved_at"
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
        return reviews.annotate(page_path=_path_of_page())

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.has_perm("review.view_ledger")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    @admin.display(description=_("page"), ordering="page_path")
    def page_link(self, review):
        return _address(review)

    @admin.display(description=_("revision"), ordering="revision__number")
    def revision_number(self, review):
        return review.revision.number

    @admin.display(description=_("authors"))
    def author_names(self, review):
        return ", ".join(author_names(review)) or "—"

    @admin.display(description=_("reviewer"), ordering="approved_by")
    def reviewer(self, review):
        return services.display_name(review.approved_by) if review.approved_by else "—"

    @admin.display(description=_("publisher"), ordering="published_by")
    def publisher(self, review):
        return services.display_name(review.published_by) if review.published_by else "—"

    def get_urls(self):
        export = path("export.csv", self.admin_site.admin_view(self.export_view), name="review_reviewrequest_export")
        return [export, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        query = request.GET.urlencode()
        export_url = reverse("admin:review_reviewrequest_export") + (f"?{query}" if query else "")
        return super().changelist_view(request, (extra_context or {}) | {"export_url": export_url})

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = self.get_changelist_instance(request).get_queryset(request)
        rows = rows.select_related("submitted_by").order_by("approved_at", "pk")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="sign-offs-{datetime.date.today():%Y-%m-%d}.csv"'
        writer = csv.writer(response)
        writer.writerow(self.CSV_COLUMNS)
        for review in rows:
            cells = [
                _address(review),
                review.language,
                review.revision.number,
                "; ".join(author_names(review)),
                services.display_name(review.submitted_by) if review.submitted_by else "",
                _iso(review.submitted_at),
                services.display_name(review.approved_by) if review.approved_by else "",
                _iso(review.approved_at),
                _iso(review.last_reviewed),
                _iso(review.next_review_due),
                services.display_name(review.published_by) if review.published_by else "",
                _iso(review.published_at),
                review.state,
                "yes" if review.is_reconfirmation else "no",
                review.approval_comment,
            ]
            # Any cell may hold someone's words (a name, an address, a comment).
            writer.writerow([_csv_safe(str(cell)) for cell in cells])
        return response


def _path_of_page():
    # Not a join: the records of a deleted page stay in the ledger and the log.
    return Subquery(Page.objects.filter(pk=OuterRef("page_id")).values("path")[:1])


def _address(row) -> str:
    return f"/{row.page_path}/" if row.page_path else _t("a deleted page (%s)") % row.page_id


def _iso(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    return value.isoformat()


def _csv_safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@admin.register(Transition)
class TransitionAdmin(ReadOnlyAdmin):
    """The workflow log: every step, never changed."""

    list_display = ("at", "page_address", "languages", "action", "from_state", "to_state", "user", "comment")
    list_filter = ("action", ("at", admin.DateFieldListFilter))
    list_select_related = ("user",)
    # The page by its address, never its working (draft) title.
    fields = ("at", "page_address", "languages", "action", "from_state", "to_state", "user", "comment")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(page_path=_path_of_page())

    @admin.display(description=_("page"))
    def page_address(self, step):
        return _address(step)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "recipient", "subject", "sent_at", "attempts", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter),)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self.has_view_permission(request)


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ("language",)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "language":
            return forms.ChoiceField(label=db_field.verbose_name, choices=languages.choices, initial=languages.source())
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class PeopleAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, ProfileInline]


admin.site.unregister(User)
admin.site.register(User, PeopleAdmin)


def author_names(review) -> list[str]:
    """The request's authors by name, in alphabetical order (the same in the list and the export)."""
    return sorted((services.display_name(user) for user in review.authors.all()), key=str.casefold)


def _forbid_if_not_allowed(error: services.WorkflowError) -> None:
    """A step the person has no right to take answers 403, whichever screen asked for it."""
    if isinstance(error, services.NotAllowed):
        raise PermissionDenied(str(error)) from None
