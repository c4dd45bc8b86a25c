"""The workflow log and the e-mail queue: every step and every message, never changed."""

from django.contrib import admin
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from pages import languages
from pages.admin import ReadOnlyAdmin
from review import services
from review.admin.common import address, with_page_path
from review.models import Notification, State, Transition


@admin.register(Transition)
class TransitionAdmin(ReadOnlyAdmin):
    """The workflow log: every step, never changed."""

    # The states before and after share a column, so that the list reads at a laptop's width in
    # Welsh too; the step's own view has each fact on its own.
    list_display = ("at", "page_address", "language_names", "action", "state_change", "user", "comment")
    list_filter = ("action", ("at", admin.DateFieldListFilter))
    list_select_related = ("user",)
    # The page by its address, never its working (draft) title.
    fields = ("at", "page_address", "language_names", "action", "from_label", "to_label", "user", "comment")
    readonly_fields = fields

    def get_queryset(self, request):
        return with_page_path(super().get_queryset(request))

    @admin.display(description=_("page"))
    def page_address(self, step):
        return address(step)

    @admin.display(description=_("languages"))
    def language_names(self, step):
        return ", ".join(languages.local_name(code) for code in step.languages) or "—"

    @admin.display(description=_("from"))
    def from_label(self, step):
        return _state_label(step.from_state)

    @admin.display(description=_("to"))
    def to_label(self, step):
        return _state_label(step.to_state)

    @admin.display(description=_("state"))
    def state_change(self, step):
        """The state before, and under it the state after, an arrow between read as "to"."""
        arrow = "←" if translation.get_language_bidi() else "→"
        return format_html(
            '{}<br><span aria-hidden="true">{}</span><span class="visually-hidden">{}</span> {}',
            _state_label(step.from_state),
            arrow,
            _("to"),
            _state_label(step.to_state),
        )


def _state_label(value: str) -> str:
    """A step's state in words: a request's, or the page's in that language before or after."""
    labels = {services.DRAFT: _("draft"), services.LIVE: _("live"), services.WITHDRAWN: _("withdrawn")}
    return str(labels.get(value) or State(value).label) if value else "—"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "recipient", "subject", "sent_at", "attempts", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter),)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self.has_view_permission(request)
