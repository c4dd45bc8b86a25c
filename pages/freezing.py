"""Freezing wording: what a page revision says in one language, exactly as it would
be published, with untranslated parts taken from the source language's signed-off
wording. What is signed off, and later published, is this frozen wording."""

from django.utils.translation import gettext as _
from modeltranslation.utils import build_localized_fieldname

from pages import history, richtext
from pages import languages as site_languages
from pages.errors import NotTranslated, PublishingError
from pages.history import PageState
from pages.models import LiveSnapshot, PageRevision


def _part(values: dict, field: str, language: str) -> dict | None:
    value = values.get(build_localized_fieldname(field, language)) or ""
    return {"text": value, "lang": language} if value.strip() else None


def freeze(state: PageState, language: str, *, fallback: dict | None = None) -> dict:
    """The wording of a page revision (``state``) in ``language``, as it will be published.

    A part not yet translated is taken from ``fallback``, the frozen wording of
    the source language as signed off (never its working copy), marked as such so
    that the page can say so. Raises NotTranslated when the title, or a section,
    has neither a translation nor signed-off source-language wording, and
    PublishingError when a body holds markup the site would drop.
    """
    source = site_languages.source()
    title = _part(state.page, "title", language)
    if title is None:
        raise NotTranslated(
            _("The page has no title in %(language)s: translate it before publishing that language.")
            % {"language": site_languages.local_name(language)}
        )
    empty = {"text": "", "lang": language}
    fallback_sections = {section.get("id"): section for section in (fallback or {}).get("sections", [])}
    frozen_sections = []
    for section in state.sections:
        approved = fallback_sections.get(section["id"], {})
        heading = _part(section, "heading", language) or approved.get("heading")
        body = _part(section, "body", language) or approved.get("body") or empty
        label = section.get(f"heading_{source}") or section["id"]
        if heading is None:
            raise NotTranslated(
                _(
                    "The section “%(label)s” has no %(language)s text and no signed-off %(source)s text "
                    "to show instead: translate it, or publish %(source)s first."
                )
                % {
                    "label": label,
                    "language": site_languages.local_name(language),
                    "source": site_languages.local_name(source),
                }
            )
        if losses := richtext.inspect(body["text"]).losses:
            raise PublishingError(
                _("The section “%(label)s” holds markup the site would drop: %(losses)s.")
                % {"label": label, "losses": ", ".join(losses)}
            )
        frozen_sections.append({"id": section["id"], "heading": heading, "body": body})
    return {
        "title": title,
        "summary": _part(state.page, "summary", language) or (fallback or {}).get("summary") or empty,
        "sections": frozen_sections,
        "related": list(state.page.get("related") or []),
        "is_sample_content": bool(state.page.get("is_sample_content")),
    }


def freeze_for_sign_off(page_revision: PageRevision, language: str) -> dict:
    """What ``language``'s readers would see of ``page_revision`` if it were signed off
    now: its own wording, and for untranslated parts the source language's live
    (signed-off) wording. Raises as :func:`freeze` does."""
    return freeze_with_live_fallback(history.page_state(page_revision), page_revision.page_id, language)


def freeze_with_live_fallback(state: PageState, page_id: int, language: str) -> dict:
    """``state`` (of page ``page_id``) frozen in ``language``, its untranslated parts from
    the source language's live wording."""
    if language == site_languages.source():
        return freeze(state, language)
    live_source = LiveSnapshot.objects.live().filter(page_id=page_id, language=site_languages.source()).first()
    return freeze(state, language, fallback=live_source.source if live_source else None)
