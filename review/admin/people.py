"""People: the admin's users, with the language their e-mails come in."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from pages import languages
from review.models import Profile

User = get_user_model()


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
