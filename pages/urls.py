from django.urls import path

from pages import views

app_name = "pages"
urlpatterns = [
    path("", views.choose_language, name="root"),
    path("<str:language>/", views.home, name="home"),
    path("<str:language>/search/", views.search_view, name="search"),
    path("<str:language>/<path:path>/", views.page_detail, name="page"),
]
