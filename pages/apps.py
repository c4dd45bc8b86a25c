from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PagesConfig(AppConfig):
    name = "pages"
    verbose_name = _("Content")

    def ready(self):
        # modeltranslation (earlier in INSTALLED_APPS) has added the language columns by now.
        from pages import checks, history  # noqa: F401 (checks registers itself)

        history.register()
