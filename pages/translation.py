from django.conf import settings
from modeltranslation.translator import TranslationOptions, register

from pages.models import Page, Section


@register(Page)
class PageTranslationOptions(TranslationOptions):
    fields = ("title", "summary")
    required_languages = {settings.LANGUAGE_CODE: ("title",), "default": ()}


@register(Section)
class SectionTranslationOptions(TranslationOptions):
    fields = ("heading", "body")
    required_languages = {settings.LANGUAGE_CODE: ("heading",), "default": ()}
