import functools

import reversion
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.auth import get_permission_codename, get_user_model
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from modeltranslation.admin import TabbedTranslationAdmin, TranslationStackedInline

from pages import diffs, history, languages, richtext, search, trigrams
from pages.fields import RichTextField
from pages.models import LiveSnapshot, Page, PageRevision, Publication, Redirect, Section
from pages.people import display_name, page_owner_ids


def in_its_language(formfield, db_field):
    """A field for one language's wording is marked with that language and its direction
    (``lang``, ``dir``): typed and shown right to left in Arabic, announced as Welsh in Welsh."""
    code = getattr(db_field, "language", None)  # modeltranslation's column for one language
    if formfield is not None and code:
        formfield.widget.attrs.update(lang=code, dir=languages.direction(code))
    return formfield


@functools.cache  # one function per column, so that the form leaves out the very one shown
def shown_in_its_language(db_field, empty: str):
    """What the read-only view shows for one language's wording: the value, marked with its
    language and direction as the editable field is; rich text as a comparison reads it."""
    code = db_field.language

    @admin.display(description=db_field.verbose_name)
    def value(obj):
        text = getattr(obj, db_field.attname) or ""
        if isinstance(db_field, RichTextField):
            text = readable_body(text)
        if not text:
            return empty
        return format_html('<div lang="{}" dir="{}">{}</div>', code, languages.direction(code), linebreaksbr(text))

    value.__name__ = db_field.name  # its row's name (``field-title_ar``), which finds its help text too
    return value


def readable_body(html: str) -> str:
    """A section's text as a reviewer reads it in a comparison: plain text, each link followed by where it leads."""
    if not html:
        return ""
    paths = dict(Page.objects.filter(pk__in=richtext.page_references(html)).values_list("pk", "path"))
    return richtext.readable(
        html, label_for_page=lambda pk: f"/{paths[pk]}/" if pk in paths else _t("a deleted page (%s)") % pk
    )


class InItsLanguage:
    """Each language's wording is marked with its language and direction (``lang``, ``dir``):
    the editable fields, and the values of the read-only view (for someone who may only look)."""

    def is_read_only(self, request, obj) -> bool:
        return obj is not None and not self.has_change_permission(request, obj)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return in_its_language(super().formfield_for_dbfield(db_field, request, **kwargs), db_field)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.is_read_only(request, obj):
            return fieldsets
        empty = self.get_empty_value_display()

        def shown(name):
            if isinstance(name, list | tuple):
                return tuple(shown(each) for each in name)
            try:
                db_field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                return name
            return shown_in_its_language(db_field, empty) if getattr(db_field, "language", None) else name

        return [(title, options | {"fields": shown(options["fields"])}) for title, options in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if not self.is_read_only(request, obj):
            return readonly
        # Left out of the form as read-only (modeltranslation's form leaves out only these).
        shown = [name for name in flatten_fieldsets(self.get_fieldsets(request, obj)) if callable(name)]
        return (*readonly, *shown)


class SectionInline(InItsLanguage, TranslationStackedInline):
    model = Section
    extra = 0
    fields = ("position", "heading", "body")
    ordering = ("position", "pk")

    def is_read_only(self, request, obj) -> bool:
        # As Django shows it: read-only where the page, or its sections, may not be changed.
        may_change_page = request.user.has_perm(f"pages.{get_permission_codename('change', Page._meta)}")
        return obj is not None and not (may_change_page and self.has_change_permission(request, obj))


class LiveFilter(admin.SimpleListFilter):
    title = _("live")
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return [("yes", _("Live in at least one language")), ("no", _("Not live"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.live()
        if self.value() == "no":
            return queryset.exclude(pk__in=queryset.live())
        return queryset


class OwnerFilter(admin.RelatedOnlyFieldListFilter):
    """The people who own a page, found without reading every page."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        owners = {"pk__in": page_owner_ids()}
        return field.get_choices(include_blank=False, limit_choices_to=owners, ordering=ordering)


class PageForm(forms.ModelForm):
    change_comment = forms.CharField(
        label=_("What changed and why"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text=_("Kept in the page's history with your name and the time."),
    )
    # The revision the editor started from: saving on top of a newer one would
    # silently undo someone else's edit, so it is refused (optimistic locking).
    based_on = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["based_on"].initial = getattr(self.instance, "base_revision", None) or latest_number(
                self.instance.pk
            )

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            # Locked until this save's revision is written, so two saves cannot both pass.
            Page.objects.select_for_update().filter(pk=self.instance.pk).first()
            latest = PageRevision.objects.select_related("revision__user").latest_for(self.instance.pk)
            based_on = cleaned.get("based_on")
            if latest is not None and based_on != latest.number:
                raise forms.ValidationError(self.conflict_message(based_on, latest), code="conflict")
        return cleaned

    def conflict_message(self, based_on: int | None, latest: PageRevision):
        user = latest.revision.user
        name = display_name(user)
        compare = reverse("admin:pages_page_compare", args=[self.instance.pk])
        return format_html(
            '{} <a href="{}?old={}&amp;new={}">{}</a> {}',
            _t(
                "Someone else saved this page while you were editing it: revision %(number)s by %(name)s "
                "(%(comment)s), changing %(what)s. Nothing of yours was saved, and nothing of theirs overwritten."
            )
            % {
                "number": latest.number,
                "name": name,
                "comment": latest.revision.comment,
                "what": ", ".join(
                    latest.languages + ([_t("its place or sections")] if latest.structure_changed else [])
                )
                or _t("nothing visible"),
            },
            compare,
            based_on or latest.number,
            latest.number,
            _t("See exactly what changed"),
            _t("Copy your changes somewhere safe, reload the page, and make them again on top of theirs."),
        )


def latest_number(page_id: int) -> int:
    return (
        PageRevision.objects.filter(page_id=page_id).order_by("-number").values_list("number", flat=True).first() or 0
    )


@admin.register(Page)
class PageAdmin(InItsLanguage, TabbedTranslationAdmin):
    form = PageForm
    list_display = ("listed_title", "path", "owner", "live_languages", "updated_at")
    list_filter = (LiveFilter, "is_sample_content", ("owner", OwnerFilter))
    search_fields = trigrams.search_fields()  # indexed for this search on PostgreSQL; see get_search_results
    # Pages are counted once (those matching), not a second time for "N total".
    show_full_result_count = False
    readonly_fields = ("path",)
    autocomplete_fields = ("parent", "related")
    fieldsets = [
        (None, {"fields": ("title", "summary")}),
        (_("Place in the site"), {"fields": ("parent", "slug", "position", "path")}),
        (_("Responsibility"), {"fields": ("owner", "review_interval_months", "related", "is_sample_content")}),
    ]
    inlines = [SectionInline]
    history_per_page = 50

    # css/admin.css comes on every admin screen, from templates/admin/base_site.html.
    class Media:
        js = [
            "js/editor-language.js",
            "js/form-errors.js",
            "js/language-switch.js",
            "js/language-tabs.js",
            "js/rich-text-access.js",
            "js/autocomplete-labels.js",
            "js/section-navigator.js",
            "js/section-numbering.js",
        ]

    def render_change_form(self, request, context, *args, **kwargs):
        # The language a section's heading is shown in (by the section list) where the admin's has none.
        context["source_language"] = languages.source()
        return super().render_change_form(request, context, *args, **kwargs)

    def get_prepopulated_fields(self, request, obj=None):
        # A new page's slug follows its source-language title as it is typed, until the editor
        # types a slug of their own; an existing page's never does, since its address is public.
        return {} if obj is not None else {"slug": (f"title_{languages.source()}",)}

    def get_changeform_initial_data(self, request):
        return {"owner": request.user.pk} | super().get_changeform_initial_data(request)

    def get_search_results(self, request, queryset, search_term):
        """Pages with each word in a title, summary, address or section, in any language; each
        page once (so Django need not remove duplicates). Choosing a parent or related page
        (autocomplete) finds pages by title and address alone, as does a search the sections'
        text could not answer in time (see get_changelist_instance)."""
        choosing = request.resolver_match is not None and request.resolver_match.url_name == "autocomplete"
        in_text = not choosing and not getattr(request, "search_titles_only", False)
        return trigrams.matching(queryset, search_term, in_text=in_text), False

    def get_changelist_instance(self, request):
        """The list, read within the search's own time limit when it searches (SEARCH_TIMEOUT_MS):
        a word found on nearly every page would otherwise hold the database for seconds reading
        every section. Past the limit, titles, summaries and addresses are searched, and the list
        says so."""
        if not request.GET.get(SEARCH_VAR, "").strip():
            return super().get_changelist_instance(request)
        try:
            with search.time_limited(request.GET[SEARCH_VAR]):
                changelist = super().get_changelist_instance(request)
                changelist.result_list = list(changelist.result_list)
                return changelist
        except search.SearchTooSlow:
            request.search_titles_only = True
        self.message_user(
            request,
            _t(
                "Searching the pages' text for this took too long, so only titles, summaries and addresses "
                "were searched. Add a rarer word to search the text too."
            ),
            messages.WARNING,
        )
        return super().get_changelist_instance(request)

    def get_object(self, request, object_id, from_field=None):
        # The revision the form is based on is read before the page and its sections: a save
        # committing in between then makes the form newer than its base (refused as a
        # conflict on save), never older (which would pass and write old values back).
        try:
            base = latest_number(int(object_id))
        except (TypeError, ValueError):
            base = None
        page = super().get_object(request, object_id, from_field)
        if page is not None and base is not None:
            page.base_revision = base
        return page

    def get_queryset(self, request):
        live = Prefetch("snapshots", queryset=LiveSnapshot.objects.only("page_id", "language"))
        return super().get_queryset(request).select_related("owner").prefetch_related(live)

    @admin.display(description=_("title"), ordering="title")
    def listed_title(self, page):
        """The title in the admin's language; where it has none yet, the source language's, marked."""
        title, language = page.title_in_use()
        if language == translation.get_language():
            return title or page.slug
        return format_html(
            '<span lang="{}">{}</span> <span class="untranslated">({})</span>',
            language,
            title or page.slug,
            languages.local_name(language),
        )

    def action_checkbox(self, page):
        """Django's own checkbox, written directly: rendering its widget's template for
        each row cost a third of the page list's time."""
        label = format_html(_t("Select this object for an action - {}"), str(page))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(page.pk),
            label,
        )

    @admin.display(description=_("live in"))
    def live_languages(self, page):
        return ", ".join(sorted(snapshot.language for snapshot in page.snapshots.all())) or "—"

    # Every save is one revision of the page and all its sections.

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with reversion.create_revision():
            reversion.set_user(request.user)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        reversion.set_comment(form.cleaned_data["change_comment"])
        super().save_model(request, obj, form, change)

    # History: read by anyone who may view the page, never edited or deleted.

    def get_urls(self):
        own = [
            path("recover/", self.admin_site.admin_view(self.recover_list_view), name="pages_page_recoverlist"),
            path(
                "recover/<int:page_id>/",
                self.admin_site.admin_view(require_POST(self.recover_view)),
                name="pages_page_recover",
            ),
            path(
                "<int:object_id>/history/compare/",
                self.admin_site.admin_view(self.compare_view),
                name="pages_page_compare",
            ),
            path(
                "<int:object_id>/history/<int:number>/revert/",
                self.admin_site.admin_view(self.revert_view),
                name="pages_page_revert",
            ),
        ]
        return own + super().get_urls()

    def _page_for(self, request, object_id, *, change=False) -> Page:
        # Rights first, so that someone without them cannot even learn which pages exist.
        allowed = self.has_change_permission(request) if change else self.has_view_permission(request)
        if not allowed:
            raise PermissionDenied
        return get_object_or_404(Page, pk=object_id)

    def history_view(self, request, object_id, extra_context=None):
        page = self._page_for(request, object_id)
        revisions = PageRevision.objects.filter(page=page).select_related("revision__user").order_by("-number")
        listing = Paginator(revisions, self.history_per_page).get_page(request.GET.get("p"))
        shown = [revision.pk for revision in listing]
        published: dict[int, list[Publication]] = {}
        for publication in Publication.objects.filter(revision__in=shown).order_by("published_at"):
            published.setdefault(publication.revision_id, []).append(publication)
        live_now = dict(LiveSnapshot.objects.filter(page=page).values_list("language", "revision_id"))
        rows = [
            {
                "revision": revision,
                "publications": published.get(revision.pk, []),
                "live_now": [code for code in languages.codes() if live_now.get(code) == revision.pk],
            }
            for revision in listing
        ]
        context = self.admin_site.each_context(request) | {
            "title": _t("History of “%s”") % page,
            "opts": self.opts,
            "original": page,
            "rows": rows,
            "listing": listing,
            # Numbers run 1, 2, 3... per page, so the newest is the count.
            "latest_number": listing.paginator.count,
            "can_revert": self.has_change_permission(request, page),
        }
        return TemplateResponse(request, "admin/pages/page/history.html", context)

    def _labels(self):
        titles = dict(Page.objects.values_list("pk", "path"))
        users = {user.pk: display_name(user) for user in get_user_model().objects.all()}
        return {
            "label_for_page": lambda pk: f"/{titles[pk]}/" if pk in titles else _t("a deleted page (%s)") % pk,
            "label_for_user": lambda pk: users.get(pk, str(pk)),
        }

    def _revision(self, page, number) -> PageRevision:
        try:
            return PageRevision.objects.select_related("revision__user").get(page=page, number=int(number))
        except (PageRevision.DoesNotExist, TypeError, ValueError):
            raise Http404(_t("No such revision.")) from None

    def compare_view(self, request, object_id):
        page = self._page_for(request, object_id)
        old = self._revision(page, request.GET.get("old"))
        new = self._revision(page, request.GET.get("new"))
        if old.number > new.number:
            old, new = new, old
        comparison = diffs.compare(history.page_state(old), history.page_state(new), **self._labels())
        context = self.admin_site.each_context(request) | {
            "title": _t("Revision %(old)s compared with revision %(new)s") % {"old": old.number, "new": new.number},
            "opts": self.opts,
            "original": page,
            "old": old,
            "new": new,
            "comparison": comparison,
        }
        return TemplateResponse(request, "admin/pages/page/compare.html", context)

    def revert_view(self, request, object_id, number):
        page = self._page_for(request, object_id, change=True)
        target = self._revision(page, number)
        if request.method == "POST":
            try:
                history.revert_page(
                    page=page, number=target.number, user=request.user, reason=request.POST.get("reason", "")
                )
            except history.HistoryError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, _t("Reverted to revision %s. What is live has not changed.") % target.number)
            return redirect("admin:pages_page_history", page.pk)
        latest = PageRevision.objects.latest_for(page)
        comparison = diffs.compare(history.page_state(latest), history.page_state(target), **self._labels())
        context = self.admin_site.each_context(request) | {
            "title": _t("Revert “%(page)s” to revision %(number)s?") % {"page": page, "number": target.number},
            "opts": self.opts,
            "original": page,
            "target": target,
            "latest": latest,
            "comparison": comparison,
        }
        return TemplateResponse(request, "admin/pages/page/revert.html", context)

    def recover_list_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        context = self.admin_site.each_context(request) | {
            "title": _t("Recover deleted pages"),
            "opts": self.opts,
            "deleted": history.deleted_pages(),
        }
        return TemplateResponse(request, "admin/pages/page/recover_list.html", context)

    def recover_view(self, request, page_id):
        if not self.has_add_permission(request):
            raise PermissionDenied
        try:
            page = history.recover_page(page_id=page_id, user=request.user)
        except history.HistoryError as error:
            self.message_user(request, str(error), messages.ERROR)
            return redirect("admin:pages_page_recoverlist")
        self.message_user(request, _t("“%s” has been recovered with its sections.") % page)
        return redirect(reverse("admin:pages_page_change", args=[page.pk]))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by the application: nobody adds, changes or deletes them here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LiveSnapshot)
class LiveSnapshotAdmin(ReadOnlyAdmin):
    """What is live, for looking up; it changes only through publishing."""

    list_display = ("path", "language", "last_reviewed", "next_review_due", "signed_off_by", "published_at")
    list_filter = ("language",)
    search_fields = ("path", "title")
    # The page itself is left out: its name is the working copy's title, a draft.
    fields = ("language", "path", "title", "summary", "last_reviewed", "next_review_due")
    fields += ("signed_off_by", "published_at", "published_by")
    readonly_fields = fields


@admin.register(Redirect)
class RedirectAdmin(ReadOnlyAdmin):
    """Old addresses of pages that moved: each answers 301 to where its page is now."""

    list_display = ("old_address", "leads_to", "created_at")
    search_fields = ("old_path", "page__path")
    list_select_related = ("page",)
    fields = ("old_address", "leads_to", "created_at")
    readonly_fields = fields

    @admin.display(description=_("old address"), ordering="old_path")
    def old_address(self, redirect):
        return f"/{redirect.old_path}/"

    @admin.display(description=_("leads to"), ordering="page__path")
    def leads_to(self, redirect):
        return f"/{redirect.page.path}/"
