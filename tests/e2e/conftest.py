"""A real browser (Debian's Chromium) driven by Playwright, against a live server."""

import importlib
import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"No browser at {CHROMIUM}, and REQUIRE_BROWSER is set.")
        pytest.skip(f"No browser at {CHROMIUM} (apt install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's synchronous API runs an event loop in the test's thread; the
    # test's own database calls are still synchronous and safe.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Every message the browser logs about the Content-Security-Policy; a test asserts there are none.
    page.csp_violations = []

    def record(message):
        if "Content Security Policy" in message.text:
            page.csp_violations.append(f"{message.text} at {message.location['url']}")

    page.on("console", record)
    yield page
    context.close()


@pytest.fixture
def role_groups(transactional_db):
    """The role groups and their rights, as the migrations create them. A browser test
    needs a committed database, which the tests before it may have emptied (SQLite
    cannot restore it for them); setting them up again changes nothing where they exist."""
    from django.contrib.auth.models import Group, Permission

    for module, app_label in (("0001_roles", "pages"), ("0003_workflow_permissions", "review")):
        rights = importlib.import_module(f"review.migrations.{module}").PERMISSIONS
        for name, codenames in rights.items():
            group, _created = Group.objects.get_or_create(name=name)
            group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
