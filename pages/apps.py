from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PagesConfig(AppConfig):
    name = "pages"
    verbose_name = _("Content")

    def ready(self):
        # modeltranslation (earlier in INSTALLED_APPS) has added the language columns by now.
        from pages import checks, history, trigrams  # noqa: F401 (checks registers itself)

        history.register()
        post_migrate.connect(trigrams.create_indexes, sender=self)
