"""The workflow's forms: what a person fills in to take a step."""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.translation import gettext_lazy as _

from pages import languages
from pages.models import Page, slug_validator
from review import services


class SubmitForm(forms.Form):
    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=languages.choices, widget=forms.CheckboxSelectMultiple
    )
    comment = forms.CharField(label=_("Note for the reviewer"), required=False, max_length=2000)


class ReviewDatesForm(forms.Form):
    last_reviewed = forms.DateField(
        label=_("Last reviewed"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    next_review_due = forms.DateField(
        label=_("Next review due"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3, "cols": 80})
    )


class LaterField(forms.DateTimeField):
    """A time to come, typed in the browser's own picker (in the site's time zone)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def to_python(self, value):
        if isinstance(value, str) and "\x00" in value:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class ScheduleForm(forms.Form):
    at = LaterField(label=_("Publish at"))


class WithdrawForm(forms.Form):
    """The reason readers are told, in the source language and (optionally) in each other
    language; those left empty show the source language's, marked as such."""

    at = LaterField(
        label=_("Withdraw at"),
        required=False,
        help_text=_("Leave empty to withdraw now. At a later time, the frequent job withdraws it then."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        source = languages.source()
        names = []
        for code in [source] + [code for code in languages.codes() if code != source]:
            name = "reason" if code == source else f"reason_{code}"
            self.fields[name] = forms.CharField(
                label=_("Reason, shown to readers (%(language)s)") % {"language": languages.local_name(code)},
                required=code == source,
                max_length=2000,
                help_text=None if code == source else _("Optional: readers in this language see the reason above."),
                widget=forms.Textarea(attrs={"rows": 3, "cols": 80, "lang": code, "dir": languages.direction(code)}),
            )
            names.append(name)
        # The time last: the reasons are what matters most.
        self.order_fields([*names, "at"])

    @property
    def translations(self) -> dict[str, str]:
        """The reason in each language other than the source that was given one."""
        return {
            code: self.cleaned_data[f"reason_{code}"]
            for code in languages.codes()
            if self.cleaned_data.get(f"reason_{code}")
        }


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
