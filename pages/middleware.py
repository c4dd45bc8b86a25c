"""When the database is unreachable, say so kindly (503) instead of failing with
a 500; Django reconnects by itself on the next request once it is back."""

import logging

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
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
    if isinstance(error, InterfaceError):
        return True
    text = str(error).lower()
    return any(
        sign in text
        for sign in ("connection", "could not connect", "server closed", "terminating", "timeout", "unable to open")
    )
