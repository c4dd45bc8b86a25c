from django import template

from pages import languages

register = template.Library()


@register.filter
def text_direction(language: str) -> str:
    """``rtl`` or ``ltr``: the direction text in ``language`` runs, for a ``dir`` attribute."""
    return languages.direction(language)
