import io

import pytest
from django.core.management import call_command


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
def _empty_cache():
    # Cached public pages must not outlive the test that made them.
    from pages import cache

    cache.clear()
    yield
    cache.clear()
