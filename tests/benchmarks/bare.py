"""The bare floor: the project ``django-admin startproject`` makes, with no middleware, no
apps and no database, and one view that returns fixed bytes, the size of a public page:
the fastest Django serves anything on this machine. Served by gunicorn from
``tests.benchmarks.bare_wsgi``; this module is its settings and its URLs."""

from django.http import HttpResponse
from django.urls import path

FLOOR = ("<!DOCTYPE html><html lang=en><title>Floor</title><p>" + "Fixed text. " * 1300)[: 15 * 1024].encode()

SECRET_KEY = "a bare benchmark, serving nothing secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = __name__
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True


def floor(request):
    return HttpResponse(FLOOR)


def healthz(request):
    return HttpResponse(b"ok")


urlpatterns = [path("bench/floor/", floor), path("healthz", healthz)]
