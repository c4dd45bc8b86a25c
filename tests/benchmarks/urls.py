"""The site's addresses, plus the floor: a view that does nothing but return a fixed
15 KB page through the same middleware, the fastest any page of this server can be."""

from django.http import HttpResponse
from django.urls import path

from config import urls
from tests.benchmarks.bare import FLOOR


def floor(request):
    return HttpResponse(FLOOR)


urlpatterns = [path("bench/floor/", floor), *urls.urlpatterns]
handler404 = urls.handler404
