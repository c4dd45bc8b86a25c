"""The model field for section bodies: the admin's rich-text editor, checked and sanitised."""

from django.contrib.admin.widgets import AdminTextareaWidget
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse_lazy
from django.utils.formats import number_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_prose_editor.fields import ProseEditorField
from django_prose_editor.widgets import AdminProseEditorWidget, ProseEditorWidget
from js_asset import Media

from pages import richtext

# Everything the editor has a button for, richtext keeps (richtext.STORED_TAGS);
# it also keeps language, direction and abbreviations, which have no button.
EDITOR_EXTENSIONS = {
    "Bold": True,
    "Italic": True,
    "Strike": True,
    "Subscript": True,
    "Superscript": True,
    "Heading": {"levels": [3, 4]},
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "HardBreak": True,
    # The editor's Link with a dialog that finds pages of this site (static/js/prose-tools.js).
    # Not autolink: with it a link mark is inclusive, so that typing right after a link
    # (a full stop after a glossary term) extends the link.
    "SiteLink": {
        "enableTarget": False,
        "autolink": False,
        "protocols": ["page", "term", "mailto", "tel"],
        "pagesUrl": reverse_lazy("picker-pages"),
        "stringsUrl": reverse_lazy("picker-strings"),
    },
    # A button that makes the selected words a glossary term: <a href="term:name" title="definition">.
    "GlossaryTerm": {
        "termsUrl": reverse_lazy("picker-terms"),
        "stringsUrl": reverse_lazy("picker-strings"),
        "label": _("Glossary term"),
    },
    "HTML": True,
}

HELP_TEXT = _(
    "Links: select the words, then press the link button (or Ctrl+K). Find the page by a few words of its "
    "title, in any language, or by its address, and choose it: the link then follows the page wherever it "
    "moves. For another site, type its full address. Glossary terms: select the word, press “Glossary "
    "term”, then choose a term already used on the site or give a new one a short name, and write what it "
    "means in the language of this field. Readers see the definition in the list of words used on the page."
)


class RichTextWidget(ProseEditorWidget):
    """The editor, with the styles of its own dialogs (static/css/editor-tools.css), after the editor's."""

    @property
    def media(self):
        return super().media + Media(css={"all": ["django_prose_editor/editor.css", "css/editor-tools.css"]})


class AdminRichTextWidget(AdminProseEditorWidget):
    @property
    def media(self):
        after = ["django_prose_editor/editor.css", "django_prose_editor/overrides.css", "css/editor-tools.css"]
        return super().media + Media(css={"all": after})


class RichTextField(ProseEditorField):
    """A section body. On validation, a body over richtext.MAX_BODY_CHARACTERS is
    refused, links to this site's addresses become page references and anything
    sanitising would remove is refused with a message; on every save the value is
    sanitised, whatever wrote it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("config", {"extensions": EDITOR_EXTENSIONS})
        kwargs["sanitize"] = richtext.sanitise
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs):
        # The admin asks for its textarea; the editor keeps the admin's look, with its dialogs' styles.
        widget = kwargs.get("widget")
        in_admin = (
            issubclass(widget, AdminTextareaWidget)
            if isinstance(widget, type)
            else isinstance(widget, AdminTextareaWidget)
        )
        kwargs["widget"] = AdminRichTextWidget if in_admin else RichTextWidget
        if not self.help_text:  # on the form only: a help text on the model would be a migration
            kwargs.setdefault("help_text", HELP_TEXT)
        return super().formfield(**kwargs)

    def clean(self, value, model_instance):
        value = models.TextField.clean(self, value, model_instance) or ""
        if len(value) > richtext.MAX_BODY_CHARACTERS:
            raise ValidationError(
                _(
                    "A section body can be at most %(limit)s characters long, and this one is %(size)s. "
                    "Split it into more sections."
                ),
                code="too_long",
                params={
                    "limit": number_format(richtext.MAX_BODY_CHARACTERS, force_grouping=True),
                    "size": number_format(len(value), force_grouping=True),
                },
            )
        from pages.models import Page  # the field is used by the model it refers to

        value, unknown = richtext.resolve_site_links(value, Page.objects.id_for_public_path)
        problems = [format_lazy(_('The link to "{}" does not lead to a page of this site.'), path) for path in unknown]
        inspection = richtext.inspect(value)
        problems += [
            format_lazy(_("This would be removed, so it cannot be saved: {}."), loss)
            for loss in inspection.losses
            if not any(path in loss for path in unknown)
        ]
        problems += [
            format_lazy(_('The glossary term "{}" needs its definition in the link title.'), term)
            for term in inspection.undefined_terms
        ]
        if problems:
            raise ValidationError(problems)
        return richtext.sanitise(value)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value:
            value = richtext.sanitise(value)
            setattr(model_instance, self.attname, value)
        return value
