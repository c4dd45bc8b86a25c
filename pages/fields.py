"""The model field for section bodies: the admin's rich-text editor, checked and sanitised."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.formats import number_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_prose_editor.fields import ProseEditorField

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
    "Link": {"enableTarget": False, "protocols": ["page", "term", "mailto", "tel"]},
    "HTML": True,
}


class RichTextField(ProseEditorField):
    """A section body. On validation, a body over richtext.MAX_BODY_CHARACTERS is
    refused, links to this site's addresses become page references and anything
    sanitising would remove is refused with a message; on every save the value is
    sanitised, whatever wrote it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("config", {"extensions": EDITOR_EXTENSIONS})
        kwargs["sanitize"] = richtext.sanitise
        super().__init__(*args, **kwargs)

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
