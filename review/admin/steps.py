"""The workflow's steps in the admin, one screen or action each: submit, review
(approve or request changes, with the diff), publish, re-confirm, withdraw, move, and
the preview of a revision as readers would see it. Each checks permission on the
server and calls the one service that takes the step."""

import dataclasses

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.forms.formsets import all_valid
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext as _t
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from pages import diffs, history, languages, moves, publishing, rendering
from pages.history import PageState
from pages.models import LiveSnapshot, Page
from pages.rendering import page_context
from review import dates, scheduling, selectors, services
from review.admin.common import forbid_if_not_allowed
from review.forms import MoveForm, ReviewDatesForm, ScheduleForm, SubmitForm, WithdrawForm
from review.models import ReviewRequest, ScheduledStep, State


def may_see_drafts(user) -> bool:
    """Whether ``user`` may read unpublished wording. Rights are per role, the same
    for every page; this is the one place to narrow them per page."""
    return user.is_active and user.is_staff and user.has_perm("pages.view_page")


class WorkflowSteps:
    """The step screens of the workflow's page admin (mixed into it)."""

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
            (
                "<int:object_id>/workflow/schedule/<int:request_id>/",
                *view(self.schedule_view, "schedule", post_only=True),
            ),
            (
                "<int:object_id>/workflow/scheduled/<int:step_id>/cancel/",
                *view(self.cancel_schedule_view, "cancelschedule", post_only=True),
            ),
            ("<int:object_id>/workflow/move/", *view(self.move_view, "move")),
            ("<int:object_id>/preview/<int:number>/<str:language>/", *view(never_cache(self.preview_view), "preview")),
            (
                "<int:object_id>/preview/unsaved/<str:language>/",
                *view(never_cache(self.unsaved_preview_view), "previewunsaved", post_only=True),
            ),
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
        forbid_if_not_allowed(error)
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
        reviewed, due = dates.default_review_dates(page)
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
            forbid_if_not_allowed(error)
            # Changes asked for without a word: the error is the comment's, shown (and announced) at it.
            unsaid = "request_changes" in request.POST and not request.POST.get("comment", "").strip()
            form.add_error("comment" if unsaid else None, str(error))
            return self._review_screen(request, page, review, form, status=400)
        self.message_user(request, _t("Approved. Publishers have been told it is ready."))
        return self._back(page)

    def _review_screen(self, request, page, review, form, status=200):
        live = selectors.live_version(page.pk, review.language)
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
            "is_author": selectors.is_author(request.user, review),
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
        live = get_object_or_404(LiveSnapshot.objects.live(), page=page, language=language)
        reviewed, due = dates.default_review_dates(page)
        form = ReviewDatesForm(request.POST or None, initial={"last_reviewed": reviewed, "next_review_due": due})
        if request.method == "POST" and form.is_valid():
            try:
                services.reconfirm(page=page, language=language, user=request.user, **form.cleaned_data)
            except services.WorkflowError as error:
                forbid_if_not_allowed(error)
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
            "public_url": rendering.page_url(live.path, language),
            "form": form,
        }
        return TemplateResponse(request, "admin/review/reconfirm.html", context, status=400 if form.errors else 200)

    def schedule_view(self, request, object_id, request_id):
        page = self._draft_page(request, object_id)
        review = self._request(page, request_id)
        form = ScheduleForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _t("Choose the day and time to publish it."), messages.ERROR)
            return self._back(page)
        try:
            step = scheduling.schedule_publish(request=review, user=request.user, at=form.cleaned_data["at"])
        except services.WorkflowError as error:
            self._refused(request, error)
        else:
            self.message_user(
                request,
                _t("Scheduled: revision %(number)s goes live in %(language)s at %(when)s.")
                % {
                    "number": review.revision.number,
                    "language": languages.local_name(review.language),
                    "when": scheduling.when(step.due_at),
                },
            )
        return self._back(page)

    def cancel_schedule_view(self, request, object_id, step_id):
        page = self._draft_page(request, object_id)
        step = get_object_or_404(ScheduledStep, pk=step_id, page=page)
        try:
            scheduling.cancel(step=step, user=request.user)
        except services.WorkflowError as error:
            self._refused(request, error)
        else:
            self.message_user(request, _t("Cancelled: the scheduled step will not be taken."))
        return self._back(page)

    def withdraw_view(self, request, object_id):
        page = self._draft_page(request, object_id)
        if not request.user.has_perm("review.withdraw"):
            raise PermissionDenied
        form = WithdrawForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            at = form.cleaned_data["at"]
            try:
                if at:
                    step = scheduling.schedule_withdrawal(
                        page=page,
                        user=request.user,
                        at=at,
                        reason=form.cleaned_data["reason"],
                        translations=form.translations,
                    )
                else:
                    services.withdraw(
                        page=page, user=request.user, reason=form.cleaned_data["reason"], translations=form.translations
                    )
            except services.WorkflowError as error:
                forbid_if_not_allowed(error)
                form.add_error("at" if at else None, str(error))
            else:
                if at:
                    message = _t("Scheduled: the page will be withdrawn at %(when)s.") % {
                        "when": scheduling.when(step.due_at)
                    }
                else:
                    message = _t("Withdrawn: its address now tells readers it was withdrawn, and why.")
                self.message_user(request, message)
                return self._back(page)
        context = self.admin_site.each_context(request) | {
            "title": _t("Withdraw “%s” from the public site") % page,
            "opts": self.opts,
            "original": page,
            "form": form,
            "live": [languages.local_name(s.language) for s in LiveSnapshot.objects.filter(page=page).live()],
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
                forbid_if_not_allowed(error)
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

    def unsaved_preview_view(self, request, object_id, language):
        """The page as the form holds it now, before saving: read from the POSTed form,
        checked and sanitised as saving would, shown with the public template, never
        saved, never cached and never public."""
        page = self._draft_page(request, object_id)
        if not self.has_change_permission(request, page):
            raise PermissionDenied
        if not languages.is_known(language):
            raise Http404(_t("No such language."))
        # In a transaction, as saving is (the form's checks lock what they compare), and rolled
        # back, whatever it read or composed: a preview writes nothing.
        with transaction.atomic():
            problem, snapshot = self._unsaved_snapshot(request, page, language)
            transaction.set_rollback(True)
        if problem:
            context = self.admin_site.each_context(request) | {
                "title": _t("Preview of unsaved changes"),
                "opts": self.opts,
                "original": page,
                "problem": problem,
            }
            return self._preview_response(
                TemplateResponse(request, "admin/review/preview_refused.html", context, status=400)
            )
        with translation.override(language):
            context = page_context(snapshot, language) | {"preview_of": None, "unsaved": True, "switcher": []}
            response = TemplateResponse(request, "review/preview.html", context)
            response.render()
        return self._preview_response(response)

    def _unsaved_snapshot(self, request, page, language):
        """(why not, None) or (None, the snapshot the POSTed form would make)."""
        form = self.get_form(request, page, change=True)(request.POST, request.FILES, instance=page)
        # Saving asks what changed and why; looking first does not.
        if "change_comment" in form.fields:
            form.fields["change_comment"].required = False
        form_valid = form.is_valid()
        formsets, _inlines = self._create_formsets(request, form.instance, change=True)
        if not (form_valid and all_valid(formsets)):
            return _t("The form has errors: correct them on the form, then preview again."), None
        try:
            snapshot = publishing.preview(
                form.instance,
                _unsaved_state(form, formsets),
                language,
                next_review_due=dates.default_review_dates(page)[1],
            )
        except publishing.PublishingError as error:
            return str(error), None
        return None, snapshot

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
            snapshot = publishing.preview(page, revision, language, next_review_due=dates.default_review_dates(page)[1])
        except publishing.PublishingError as error:
            self.message_user(request, str(error), messages.ERROR)
            return self._back(page)
        with translation.override(language):
            context = page_context(snapshot, language) | {"preview_of": revision, "switcher": []}
            response = TemplateResponse(request, "review/preview.html", context)
            response.render()
        return self._preview_response(response)


def _unsaved_state(form, formsets) -> PageState:
    """The page and its sections as the (valid) form holds them, nothing saved: sections
    not saved yet get ids of their own below zero, those marked for deletion are left out."""
    sections, new_id = [], 0
    for formset in formsets:
        for section_form in formset.forms:
            if formset._should_delete_form(section_form) or (
                section_form.instance.pk is None and not section_form.has_changed()
            ):
                continue
            section = section_form.instance
            if section.pk is None:
                new_id -= 1
                section.pk = new_id
            sections.append(section)
    related = [related.pk for related in form.cleaned_data.get("related") or []]
    return PageState.from_objects(form.instance, sections, related)


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
