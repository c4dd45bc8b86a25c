from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

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


@register.filter
def isolated(text: str) -> SafeString:
    """``text`` (a name, an address) in a ``<bdi>``: set in a sentence that runs the other
    way, it keeps its own direction, and the sentence's punctuation stays where it belongs."""
    return format_html("<bdi>{}</bdi>", text)
