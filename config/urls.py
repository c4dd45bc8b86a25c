from django.contrib import admin
from django.urls import include, path

from pages.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("pages.urls")),
]

handler404 = "pages.views.page_not_found"
