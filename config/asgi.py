import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()

# Each app server announces changes to the live site whose own announcement was lost.
from pages import cache  # noqa: E402 (needs the apps loaded)

cache.watch_live_site()
