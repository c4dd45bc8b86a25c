"""The site's languages: every language it may use, and which of them settings turn on
(the first is the source language).

Adding a language is an entry in AVAILABLE below (plus the migration for its
columns). config.settings imports this module, so it reads settings only when
a function is called, never at import.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _

from pages.errors import UnknownLanguage


@dataclass(frozen=True)
class Language:
    name: str  # in the language itself, for settings.LANGUAGES
    search_configuration: str = "simple"  # PostgreSQL's text search configuration; "simple" if it has none
    open_graph_locale: str = ""  # the language with its territory, where it is at home
    direction: str = ""  # "rtl" or "ltr", only for a language Django does not know


AVAILABLE = {
    "en": Language("English", search_configuration="english", open_graph_locale="en_GB"),
    "cy": Language("Cymraeg", open_graph_locale="cy_GB"),
    "ar": Language("العربية", search_configuration="arabic", open_graph_locale="ar_AR"),
    "pl": Language("Polski", open_graph_locale="pl_PL"),
    "ur": Language("اردو", open_graph_locale="ur_PK"),
    "fr": Language("Français", search_configuration="french", open_graph_locale="fr_FR"),
    "es": Language("Español", search_configuration="spanish", open_graph_locale="es_ES"),
    "de": Language("Deutsch", search_configuration="german", open_graph_locale="de_DE"),
    "ga": Language("Gaeilge", search_configuration="irish", open_graph_locale="ga_IE"),
    "gd": Language("Gàidhlig", open_graph_locale="gd_GB"),
}


def _entry(code: str) -> Language:
    """The language's entry; for a code not listed, one that says no more than its code."""
    return AVAILABLE.get(code, Language(name=code))


def named(language_codes: list[str]) -> list[tuple[str, str]]:
    """(code, name in itself) for each code, as settings.LANGUAGES wants them."""
    return [(code, _entry(code).name) for code in language_codes]


def codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def source() -> str:
    return settings.LANGUAGE_CODE


def is_known(code: str) -> bool:
    return code in codes()


def check(code: str) -> None:
    """Raise UnknownLanguage unless ``code`` is one of the site's languages."""
    if not is_known(code):
        raise UnknownLanguage(
            _("Unknown language %(code)s: this site has %(known)s.") % {"code": code, "known": ", ".join(codes())}
        )


def direction(code: str) -> str:
    """``rtl`` or ``ltr``: the direction text in the language runs."""
    if _entry(code).direction:
        return _entry(code).direction
    try:
        return "rtl" if get_language_info(code)["bidi"] else "ltr"
    except KeyError:
        return "rtl" if code in settings.LANGUAGES_BIDI else "ltr"


def search_configuration(code: str) -> str:
    """PostgreSQL's text search configuration for the language (its stemming and stop words)."""
    return _entry(code).search_configuration


def open_graph_locale(code: str) -> str:
    """The language with its territory, as Open Graph wants it, such as ``cy_GB``."""
    return _entry(code).open_graph_locale or code


def local_name(code: str) -> str:
    """The language's name in itself, such as "Cymraeg"."""
    try:
        return get_language_info(code)["name_local"]
    except KeyError:
        return dict(settings.LANGUAGES).get(code, code)


def choices() -> list[tuple[str, str]]:
    """(code, name in itself) for forms."""
    return [(code, local_name(code)) for code in codes()]
