from django import template

from pages import languages

register = template.Library()


@register.filter
def language_name(code: str) -> str:
    """The language's own name for itself ("Cymraeg")."""
    return languages.local_name(code)
