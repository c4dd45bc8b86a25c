"""Public views. They read live snapshots only, never the working copy."""

from django.conf import settings
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_safe

from pages.models import LiveSnapshot


def _activate(language: str) -> None:
    """Use ``language`` for this response, or answer 404 if the site has no such language."""
    if language not in dict(settings.LANGUAGES):
        raise Http404("No such language.")
    translation.activate(language)


def _preferring(language: str) -> Case:
    """Order rows so that ``language`` comes before the source language."""
    return Case(When(language=language, then=Value(0)), default=Value(1), output_field=IntegerField())


@require_safe
def choose_language(request):
    return redirect("pages:home", language=translation.get_language_from_request(request))


@require_safe
def home(request, language):
    _activate(language)
    snapshots = {}
    rows = (
        LiveSnapshot.objects.filter(page__parent__isnull=True, language__in={language, settings.LANGUAGE_CODE})
        .order_by("page__position", "path", _preferring(language))
        .only("page_id", "language", "path", "title", "summary")
    )
    for snapshot in rows:
        snapshots.setdefault(snapshot.page_id, snapshot)
    topics = [
        {
            "title": snapshot.title,
            "summary": snapshot.summary,
            "lang": snapshot.language,
            "url": reverse("pages:page", kwargs={"language": language, "path": snapshot.path}),
        }
        for snapshot in snapshots.values()
    ]
    return render(request, "pages/home.html", {"topics": topics, "alternates": _alternates(request, "")})


@require_safe
def page_detail(request, language, path):
    _activate(language)
    snapshot = (
        LiveSnapshot.objects.filter(path=path, language__in={language, settings.LANGUAGE_CODE})
        .order_by(_preferring(language))
        .first()
    )
    if snapshot is None:
        raise Http404("No live page at this address.")
    is_fallback = snapshot.language != language
    canonical_language = snapshot.language
    context = {
        "snapshot": snapshot,
        "content": snapshot.content,
        "is_fallback": is_fallback,
        "content_language": snapshot.language,
        "source_language": settings.LANGUAGE_CODE,
        "requested_language_name": translation.get_language_info(language)["name_local"],
        "switcher": [
            {
                "code": code,
                "name": translation.get_language_info(code)["name_local"],
                "url": reverse("pages:page", kwargs={"language": code, "path": path}),
                "is_current": code == language,
            }
            for code in snapshot.languages
        ],
        "canonical": request.build_absolute_uri(
            reverse("pages:page", kwargs={"language": canonical_language, "path": path})
        ),
        "alternates": _alternates(request, path, snapshot.languages),
    }
    return render(request, "pages/page.html", context)


def _alternates(request, path: str, languages=None) -> list[dict]:
    """``hreflang`` links: one per language with a live version, and x-default."""
    languages = languages if languages is not None else [code for code, _name in settings.LANGUAGES]
    name = "pages:page" if path else "pages:home"

    def url(code):
        kwargs = {"language": code, "path": path} if path else {"language": code}
        return request.build_absolute_uri(reverse(name, kwargs=kwargs))

    alternates = [{"hreflang": code, "href": url(code)} for code in languages]
    if settings.LANGUAGE_CODE in languages:
        alternates.append({"hreflang": "x-default", "href": url(settings.LANGUAGE_CODE)})
    return alternates


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)
