import io
import os
import tempfile

import pytest
from django.core.management import call_command

# The public page cache is a directory the processes of a machine share (see config.settings);
# each run of the suite gets its own, which the app servers it starts share with it.
os.environ["CACHE_DIR"] = tempfile.mkdtemp(prefix="clinical-cms-test-cache-")


@pytest.fixture(scope="session", autouse=True)
def _own_cache_directory():
    from django.conf import settings

    if settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
        settings.CACHES["default"]["LOCATION"] = os.environ["CACHE_DIR"]


@pytest.fixture
def demo_content(db):
    call_command("load_demo_content", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    # Each test starts in the source language, as a request without preferences does.
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing is slow by design; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _database_not_left_alone():
    # A test that cut a connection (the database "stopped answering") leaves no breaker open for the next.
    from config.database.base import watchdog

    watchdog.down_until = 0.0


@pytest.fixture(autouse=True)
def _empty_cache():
    # Cached public pages must not outlive the test that made them.
    from pages import cache

    cache.clear()
    yield
    cache.clear()


# The database as migrations left it, for the tests that restore it afterwards
# (serialized_rollback), kept here as well as on the connection.
_serialized_contents: dict[str, str] = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.db import connections

    for alias in connections:
        if contents := getattr(connections[alias], "_test_serialized_contents", None):
            _serialized_contents[alias] = contents


def _restore_serialized_contents():
    # Playwright's synchronous API runs the browser tests in a context of their own,
    # where Django opens new connection objects without that copy of the database;
    # the flush after such a test, and the tests after it, would go wrong without it.
    from django.db import connections

    for alias, contents in _serialized_contents.items():
        if not hasattr(connections[alias], "_test_serialized_contents"):
            connections[alias]._test_serialized_contents = contents


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _restore_serialized_contents()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    _restore_serialized_contents()
