import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Each app server announces changes to the live site whose own announcement was lost.
from pages import cache  # noqa: E402 (needs the apps loaded)

cache.watch_live_site()

# Each app server stores again the pages left waiting by a change to a page many others show.
from pages import snapshots  # noqa: E402

snapshots.keep_rebuilding()
