"""The README's screenshots: the glucagonoma page in English and Arabic, a reviewer's
work inbox (the admin's front page) and the review screen it leads to, a publisher
scheduling the approved version (the sign-off panel) and the withdrawal form with a
reason per language, and the editor's form with its section navigator. `make screenshots`
writes them to docs/screenshots; the test suite takes them too (into a temporary folder),
so a page that stops rendering fails."""

import datetime
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format

from pages import history
from pages.models import Page
from review import roles, services
from tests.e2e.test_sign_off import GLUCAGONOMA, signed_in
from tests.factories import UserFactory

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_screenshots(browser, live_server, tmp_path, role_groups):
    folder = Path(os.environ.get("SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    call_command("load_demo_content", stdout=io.StringIO())
    editor = UserFactory(username="eleri", first_name="Eleri", last_name="Jones", roles=[roles.EDITOR])
    reviewer_user = UserFactory(username="rhys", first_name="Rhys", last_name="Evans", roles=[roles.CLINICAL_REVIEWER])
    UserFactory(username="pat", first_name="Pat", last_name="Price", roles=[roles.PUBLISHER])
    glucagonoma = Page.objects.get(path=GLUCAGONOMA)
    with history.revision(user=editor, comment="Clearer wording on symptoms."):
        section = glucagonoma.sections.get(position=3)
        section.body_en = section.body_en.replace("</p>", " Your doctor will explain each test.</p>", 1)
        section.save()
    (review,) = services.submit(page=glucagonoma, languages=["en"], user=editor, comment="Please check.")

    context = browser.new_context(viewport={"width": 1100, "height": 1400})
    page = context.new_page()
    for language in ("en", "ar"):
        page.goto(f"{live_server.url}/{language}/{GLUCAGONOMA}/")
        page.screenshot(path=folder / f"page-{language}.png")
    context.close()
    reviewer = signed_in(browser, live_server, "rhys")
    reviewer.set_viewport_size({"width": 1100, "height": 1400})
    reviewer.goto(f"{live_server.url}/admin/")
    reviewer.get_by_role("link", name=glucagonoma.title_en).click()  # from the inbox, one click
    assert reviewer.url.endswith(f"/workflow/review/{review.pk}/")
    reviewer.goto(f"{live_server.url}/admin/")
    reviewer.screenshot(path=folder / "inbox.png")
    reviewer.goto(f"{live_server.url}/admin/pages/page/{glucagonoma.pk}/workflow/review/{review.pk}/")
    reviewer.screenshot(path=folder / "review-screen.png")
    reviewer.context.close()

    services.approve(request=review, user=reviewer_user)
    publisher = signed_in(browser, live_server, "pat")
    publisher.set_viewport_size({"width": 1280, "height": 1000})
    publisher.goto(f"{live_server.url}/admin/pages/page/{glucagonoma.pk}/change/")
    at = timezone.localdate() + datetime.timedelta(days=90)
    publisher.fill(f"#schedule-{review.pk}", f"{at:%Y-%m-%d}T09:00")
    publisher.get_by_role("button", name="Schedule").click()
    publisher.wait_for_selector(".messagelist li")
    assert f"To be published at {date_format(at)}, 09:00." in publisher.locator(".workflow-panel").inner_text()
    publisher.locator(".workflow-panel").screenshot(path=folder / "sign-off-panel.png")
    publisher.goto(f"{live_server.url}/admin/pages/page/{glucagonoma.pk}/workflow/withdraw/")
    publisher.screenshot(path=folder / "withdraw.png")
    publisher.context.close()
    writer = signed_in(browser, live_server, "eleri")
    writer.set_viewport_size({"width": 1280, "height": 1000})
    writer.goto(f"{live_server.url}/admin/pages/page/{glucagonoma.pk}/change/")
    writer.screenshot(path=folder / "page-form.png")
    writer.context.close()

    for name in ("page-en", "page-ar", "inbox", "review-screen", "sign-off-panel", "withdraw", "page-form"):
        assert (folder / f"{name}.png").read_bytes().startswith(PNG)
