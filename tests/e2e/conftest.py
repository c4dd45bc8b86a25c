"""A real browser (Debian's Chromium) driven by Playwright, against a live server."""

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
