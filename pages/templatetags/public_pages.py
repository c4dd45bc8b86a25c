from django import template

from pages import languages

register = template.Library()


@register.filter
def text_direction(language: str) -> str:
    """``rtl`` or ``ltr``: the direction text in ``language`` runs, for a ``dir`` attribute."""
    return languages.direction(language)


# Open Graph wants a language with its territory; the site's languages, where they are at home.
OG_LOCALES = {"en": "en_GB", "cy": "cy_GB", "ga": "ga_IE", "gd": "gd_GB", "ar": "ar_AR", "ur": "ur_PK", "pl": "pl_PL",
              "fr": "fr_FR", "es": "es_ES", "de": "de_DE"}  # fmt: skip


@register.filter
def og_locale(language: str) -> str:
    return OG_LOCALES.get(language, language)
