"""When the database is unreachable or stops answering, say so kindly (503) instead
of failing with a 500 or hanging; Django reconnects by itself on the next request once
it is back."""

import logging

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from config.database.base import DatabaseNotAnswering, watchdog

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Every wait on PostgreSQL during the request is bounded (config.database).
        with watchdog.guarding():
            return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError) or not _unreachable(exception):
            return None
        logger.error("Database unavailable: %s", exception)
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response


def _unreachable(error: DatabaseError) -> bool:
    """Whether ``error`` says the database cannot be reached, rather than that a query is wrong."""
    if isinstance(error, InterfaceError | DatabaseNotAnswering):
        return True
    text = str(error).lower()
    return any(
        sign in text
        for sign in ("connection", "could not connect", "server closed", "terminating", "timeout", "unable to open")
    )


class RejectNulMiddleware:
    """An address or query with a NUL character in it is refused before any view sees it:
    no page has one, and PostgreSQL cannot hold one in a query (it would be a 500)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            raise Http404("No page has a NUL character in its address.")
        if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
            return HttpResponseBadRequest(
                _("The address holds a NUL character, which no search or page can use."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
