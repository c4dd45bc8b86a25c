from django import template
from django.utils.translation import get_language_info

register = template.Library()


@register.filter
def text_direction(language: str) -> str:
    """``rtl`` or ``ltr``: the direction text in ``language`` runs, for a ``dir`` attribute."""
    return "rtl" if get_language_info(language)["bidi"] else "ltr"
