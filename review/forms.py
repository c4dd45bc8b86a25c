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
