"""The workflow log and the e-mail queue: every step and every message, never changed."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from pages.admin import ReadOnlyAdmin
from review.admin.common import address, with_page_path
from review.models import Notification, Transition


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
        return with_page_path(super().get_queryset(request))

    @admin.display(description=_("page"))
    def page_address(self, step):
        return address(step)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "recipient", "subject", "sent_at", "attempts", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter),)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self.has_view_permission(request)
