"""Public views. They read live snapshots only, never the working copy."""

import functools
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.paginator import EmptyPage
from django.db import connection
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from pages import languages, publishing, rendering, search, sitemaps, throttle
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
        LiveSnapshot.objects.live()
        .for_reader(language)
        .filter(page__parent__isnull=True)
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
    homes = {code: reverse("pages:home", kwargs={"language": code}) for code in languages.codes()}
    context = {"topics": topics, "alternates": _alternates(), "switcher": rendering.switcher(homes, language)}
    return render(request, "pages/home.html", context)


@require_safe
def search_view(request, language):
    _activate(language)
    query = request.GET.get("q", "")
    if query.strip() and (seconds := throttle.wait_for(request, "search")):
        response = render(request, "pages/too_many_searches.html", {"seconds": seconds}, status=429)
        response["Retry-After"] = str(seconds)
        response["X-Robots-Tag"] = "noindex"
        return response
    status, found = 200, search.Found()
    if query.strip():
        try:
            found = search.find(query, language, page=_page_number(request.GET.get("page")))
        except search.SearchTooSlow:
            status = 503
    if found.page > found.pages:  # past the last page of results: the last one
        return redirect(f"{request.path}?{_query_string(query, found.pages)}")
    context = {
        "query": query.strip()[: search.LONGEST_QUERY],
        "found": found,
        "results": found.results,
        "searched": bool(query.strip()),
        "too_slow": status == 503,
        "previous": _query_string(query, found.page - 1) if found.page > 1 else "",
        "next": _query_string(query, found.page + 1) if found.page < found.pages else "",
        "switcher": rendering.switcher(
            {
                code: reverse("pages:search", kwargs={"language": code})
                + (f"?{_query_string(query, 1)}" if query.strip() else "")
                for code in languages.codes()
            },
            language,
        ),
    }
    response = render(request, "pages/search.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


def _page_number(given: str | None) -> int:
    """The page of results asked for: 1 unless a whole number from 1 up (so never an error)."""
    return int(given) if given and given.isascii() and given.isdigit() and 0 < int(given) < 10_000 else 1


def _query_string(query: str, page: int) -> str:
    return urlencode({"q": query, "page": page} if page > 1 else {"q": query})


@require_safe
@cached_public_page
def page_detail(request, language, path):
    _activate(language)
    if (stored := _stored_page(path, language)) is not None:
        return HttpResponse(stored)
    # One query for the whole version shown: one published meanwhile is never half read (one
    # waiting to be composed again is composed around it with the live site as it is now).
    snapshot = (
        LiveSnapshot.objects.for_reader(language)
        .filter(path=path)
        .order_by("preference")
        .select_related("page")  # for composing one that waits for it
        .first()
    )
    if snapshot is None:
        return _moved(request, path, language)
    if snapshot.withdrawn_at:
        return _withdrawn(request, snapshot)
    if snapshot.needs_rebuild:  # a page it shows changed moments ago: composed with the live site as it is now
        publishing.compose(snapshot)
    # Shown in another language, waiting to be composed again, or rendered before a deploy
    # changed the templates.
    return HttpResponse(rendering.render(snapshot, language))


def _moved(request, path: str, language: str):
    """The answer at an address a page had before it moved: 301 to where it is now, for
    good, or 410 Gone if it has been withdrawn since. 404 when no page ever had it."""
    snapshot = (
        LiveSnapshot.objects.for_reader(language)
        .filter(page__redirects__old_path=path)
        .order_by("preference")
        .only("path", "language", "withdrawn_at", "withdrawal_reason", "withdrawal_reason_language", "title")
        .first()
    )
    if snapshot is None:
        raise Http404("No live page at this address.")
    if snapshot.withdrawn_at:
        return _withdrawn(request, snapshot)
    return HttpResponsePermanentRedirect(rendering.page_url(snapshot.path, language))


def _withdrawn(request, snapshot):
    return render(request, "pages/withdrawn.html", {"snapshot": snapshot}, status=410)


@functools.cache
def _stored_page_query(vendor: str, is_fallback_possible: bool) -> str:
    quote = connection.ops.quote_name
    fields = {name: quote(LiveSnapshot._meta.get_field(name).column) for name in
              ("html", "html_key", "fallback_html", "path", "language", "withdrawn_at", "needs_rebuild")}  # fmt: skip
    table = quote(LiveSnapshot._meta.db_table)
    # Withdrawn, or waiting to be composed again: not to be served as stored.
    not_as_stored = f"({fields['withdrawn_at']} IS NOT NULL OR {fields['needs_rebuild']})"
    select = f"SELECT {fields['language']}, {not_as_stored}, {fields['html_key']}"
    if not is_fallback_possible:
        return f"{select}, {fields['html']} FROM {table} WHERE {fields['path']} = %s AND {fields['language']} = %s"
    # The reader's own version, else what the source language's version stored for them.
    text = (
        f"({fields['fallback_html']} ->> %s)"
        if vendor == "postgresql"
        else f"json_extract({fields['fallback_html']}, %s)"
    )
    return (
        f"{select}, CASE WHEN {fields['language']} = %s THEN {fields['html']} ELSE {text} END FROM {table} "
        f"WHERE {fields['path']} = %s AND {fields['language']} IN (%s, %s)"
    )


def _stored_page(path: str, language: str) -> str | None:
    """The live page at ``path`` for readers of ``language`` as rendered when it was
    published (its own version, or the source language's standing in for it), if it was
    rendered with today's templates. The common case, so a single plain query, without the
    ORM's cost of building one; one query, so always one whole published version."""
    source = languages.source()
    is_fallback_possible = language != source
    if is_fallback_possible:
        key = language if connection.vendor == "postgresql" else f'$."{language}"'
        params = [language, key, path, language, source]
    else:
        params = [path, language]
    with connection.cursor() as cursor:
        cursor.execute(_stored_page_query(connection.vendor, is_fallback_possible), params)
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    stored = rows.get(language) or rows.get(source)
    if stored is None:
        return None
    not_as_stored, html_key, html = stored
    if not_as_stored or not html or html_key != rendering.key():
        return None
    return html


def _alternates() -> list[dict]:
    """``hreflang`` links for the home page: one per language, and x-default."""
    urls = {code: rendering.absolute(reverse("pages:home", kwargs={"language": code})) for code in languages.codes()}
    alternates = [{"hreflang": code, "href": url} for code, url in urls.items()]
    return [*alternates, {"hreflang": "x-default", "href": urls[languages.source()]}]


@require_safe
@cached_public_page
def sitemap_index(request):
    """The sitemap index: each page of each section of the sitemap."""
    translation.activate(languages.source())  # one sitemap, whatever the visitor's browser asks for
    entries = []
    for section, site_map in sitemaps.SECTIONS.items():
        site_map = site_map()
        lastmod = site_map.get_latest_lastmod()
        for number in site_map.paginator.page_range:
            url = reverse("sitemap-section", kwargs={"section": section, "page": number})
            entries.append({"location": rendering.absolute(url), "last_mod": lastmod})
    return render(request, "sitemap_index.xml", {"sitemaps": entries}, content_type="application/xml")


@require_safe
@cached_public_page
def sitemap_section(request, section: str, page: int):
    """One page of one section of the sitemap; 404 past its last page."""
    translation.activate(languages.source())
    if section not in sitemaps.SECTIONS:
        raise Http404("No such sitemap.")
    try:
        urls = sitemaps.SECTIONS[section]().get_urls(page=page)
    except EmptyPage:
        raise Http404("No such page of the sitemap.") from None
    return render(request, "sitemap.xml", {"urlset": urls}, content_type="application/xml")


@require_safe
def robots(request):
    lines = ["User-agent: *", "Allow: /", f"Sitemap: {rendering.absolute(reverse('sitemap'))}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain")


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: the site's icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    """A refused request, with the reason it was refused (a workflow step's says why), on an
    admin page for the admin's screens and a public one elsewhere."""
    reason = str(exception) if exception is not None and str(exception) else ""
    context = {"title": _("Not allowed"), "reason": reason}
    if request.path.startswith(reverse("admin:index")):
        from django.contrib import admin  # the admin site's own context: header, user links

        return render(request, "admin/403.html", admin.site.each_context(request) | context, status=403)
    return render(request, "403.html", context, status=403)


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
