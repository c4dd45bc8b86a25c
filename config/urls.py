from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from pages import picker
from pages.views import favicon, healthz, robots, sitemap_index, sitemap_section

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("sitemap.xml", sitemap_index, name="sitemap"),
    path("sitemap-<slug:section>-<int:page>.xml", sitemap_section, name="sitemap-section"),
    path("robots.txt", robots, name="robots"),
    path("favicon.ico", favicon, name="favicon"),
    # The section editor's page picker and glossary-term dialog (pages.picker), before the
    # admin's own addresses, behind its sign-in.
    path(f"{settings.ADMIN_URL}pages/picker/pages/", admin.site.admin_view(picker.pages), name="picker-pages"),
    path(f"{settings.ADMIN_URL}pages/picker/terms/", admin.site.admin_view(picker.terms), name="picker-terms"),
    path(f"{settings.ADMIN_URL}pages/picker/strings/", admin.site.admin_view(picker.strings), name="picker-strings"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("pages.urls")),
]

handler403 = "pages.views.permission_denied"
handler404 = "pages.views.page_not_found"
