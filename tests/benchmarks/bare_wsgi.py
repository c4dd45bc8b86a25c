"""gunicorn's entry point for the bare floor (see tests.benchmarks.bare)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.benchmarks.bare"
application = get_wsgi_application()
