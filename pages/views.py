"""Public views. They read live snapshots only, never the working copy."""

from django.core.cache import cache
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from pages import languages
from pages.cache import cached_public_page
from pages.models import LiveSnapshot


def _activate(language: str) -> None:
    """Use ``language`` for this response, or answer 404 if the site has no such language."""
    if not languages.is_known(language):
        raise Http404("No such language.")
    translation.activate(language)


@require_safe
def choose_language(request):
    return redirect("pages:home", language=translation.get_language_from_request(request))


@require_safe
@cached_public_page
def home(request, language):
    _activate(language)
    snapshots = {}
    rows = (
        LiveSnapshot.objects.for_reader(language)
        .filter(page__parent__isnull=True, withdrawn_at__isnull=True)
        .order_by("page__position", "path", "preference")
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
@cached_public_page
def page_detail(request, language, path):
    _activate(language)
    snapshot = LiveSnapshot.objects.for_reader(language).filter(path=path).order_by("preference").first()
    if snapshot is None:
        raise Http404("No live page at this address.")
    if snapshot.withdrawn_at:
        return render(request, "pages/withdrawn.html", {"snapshot": snapshot}, status=410)
    return render(request, "pages/page.html", page_context(request, snapshot, language))


def page_context(request, snapshot: LiveSnapshot, language: str) -> dict:
    """What the page template needs to show ``snapshot`` to a reader of ``language``."""
    path = snapshot.path
    return {
        "snapshot": snapshot,
        "content": snapshot.content,
        "is_fallback": snapshot.language != language,
        "content_language": snapshot.language,
        "source_language": languages.source(),
        "requested_language_name": languages.local_name(language),
        "switcher": [
            {
                "code": code,
                "name": languages.local_name(code),
                "url": reverse("pages:page", kwargs={"language": code, "path": path}),
                "is_current": code == language,
            }
            for code in snapshot.languages
        ],
        "canonical": request.build_absolute_uri(
            reverse("pages:page", kwargs={"language": snapshot.language, "path": path})
        ),
        "alternates": _alternates(request, path, snapshot.languages),
    }


def _alternates(request, path: str, live_languages=None) -> list[dict]:
    """``hreflang`` links: one per language with a live version, and x-default."""
    live_languages = live_languages if live_languages is not None else languages.codes()
    name = "pages:page" if path else "pages:home"

    def url(code):
        kwargs = {"language": code, "path": path} if path else {"language": code}
        return request.build_absolute_uri(reverse(name, kwargs=kwargs))

    alternates = [{"hreflang": code, "href": url(code)} for code in live_languages]
    if languages.source() in live_languages:
        alternates.append({"hreflang": "x-default", "href": url(languages.source())})
    return alternates


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


@never_cache
@require_safe
def healthz(request):
    """For the load balancer: 200 when the database answers, 503 when it does not.
    The cache being down only degrades the service (pages come from the database)."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as error:  # any failure to reach the database
        checks["database"] = f"unavailable: {type(error).__name__}"
    try:
        cache.set("healthz", "ok", 10)
        checks["cache"] = "ok" if cache.get("healthz") == "ok" else "unavailable"
    except Exception as error:  # any failure to reach the cache
        checks["cache"] = f"unavailable: {type(error).__name__}"
    healthy = checks["database"] == "ok"
    status = ("ok" if checks["cache"] == "ok" else "degraded") if healthy else "failing"
    return JsonResponse({"status": status, **checks}, status=200 if healthy else 503)
