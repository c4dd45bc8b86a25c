from django.contrib import admin
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TabbedTranslationAdmin, TranslationStackedInline

from pages import languages
from pages.models import LiveSnapshot, Page, Section


class SectionInline(TranslationStackedInline):
    model = Section
    extra = 0
    fields = ("position", "heading", "body")
    ordering = ("position", "pk")


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


@admin.register(Page)
class PageAdmin(TabbedTranslationAdmin):
    list_display = ("title", "path", "owner", "live_languages", "updated_at")
    list_filter = (LiveFilter, "is_sample_content", ("owner", admin.RelatedOnlyFieldListFilter))
    search_fields = [f"title_{code}" for code in languages.codes()] + ["path"]
    readonly_fields = ("path",)
    autocomplete_fields = ("parent", "related")
    fieldsets = [
        (None, {"fields": ("title", "summary")}),
        (_("Place in the site"), {"fields": ("parent", "slug", "position", "path")}),
        (_("Responsibility"), {"fields": ("owner", "related", "is_sample_content")}),
    ]
    inlines = [SectionInline]

    def get_queryset(self, request):
        live = Prefetch("snapshots", queryset=LiveSnapshot.objects.only("page_id", "language"))
        return super().get_queryset(request).select_related("owner").prefetch_related(live)

    @admin.display(description=_("live in"))
    def live_languages(self, page):
        return ", ".join(sorted(snapshot.language for snapshot in page.snapshots.all())) or "—"


@admin.register(LiveSnapshot)
class LiveSnapshotAdmin(admin.ModelAdmin):
    """What is live, for looking up; it changes only through publishing."""

    list_display = ("path", "language", "last_reviewed", "next_review_due", "signed_off_by", "published_at")
    list_filter = ("language",)
    search_fields = ("path", "title")
    fields = ("page", "language", "path", "title", "summary", "last_reviewed", "next_review_due")
    fields += ("signed_off_by", "published_at", "published_by")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
