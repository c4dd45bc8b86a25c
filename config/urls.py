from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from pages.views import healthz, robots, sitemap

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("sitemap.xml", sitemap, name="sitemap"),
    path("robots.txt", robots, name="robots"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("pages.urls")),
]

handler404 = "pages.views.page_not_found"
