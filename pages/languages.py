"""The site's languages, as settings define them: the first is the source language."""

from django.conf import settings
from django.utils.translation import get_language_info


def codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def source() -> str:
    return settings.LANGUAGE_CODE


def is_known(code: str) -> bool:
    return code in codes()


def direction(code: str) -> str:
    """``rtl`` or ``ltr``: the direction text in the language runs."""
    try:
        return "rtl" if get_language_info(code)["bidi"] else "ltr"
    except KeyError:
        return "rtl" if code in settings.LANGUAGES_BIDI else "ltr"


def local_name(code: str) -> str:
    """The language's name in itself, such as "Cymraeg"."""
    try:
        return get_language_info(code)["name_local"]
    except KeyError:
        return dict(settings.LANGUAGES).get(code, code)


def choices() -> list[tuple[str, str]]:
    """(code, name in itself) for forms."""
    return [(code, local_name(code)) for code in codes()]
