from django import template

from pages import languages

register = template.Library()


@register.filter
def text_direction(language: str) -> str:
    """``rtl`` or ``ltr``: the direction text in ``language`` runs, for a ``dir`` attribute."""
    return languages.direction(language)


@register.filter
def og_locale(language: str) -> str:
    """The language with its territory, as Open Graph wants it, such as ``cy_GB``."""
    return languages.open_graph_locale(language)
