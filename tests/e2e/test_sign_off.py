"""The whole sign-off in a real browser: an editor changes a Welsh section and submits
it, cannot approve it, a reviewer reads the diff and approves, a publisher publishes,
and the public Welsh page shows the old wording until then and the new one after."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection

from pages.models import Page
from review import roles
from review.models import ReviewRequest
from tests.factories import UserFactory

GLUCAGONOMA = "neuroendocrine-cancer/pancreatic-neuroendocrine-tumours/glucagonoma"
WORD = "GAIRNEWYDD"


def signed_in(browser, live_server, username):
    """A browser window of ``username``'s own, signed in to the admin."""
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


def press(page, selector: str) -> str:
    """Click a button that submits a form; the messages of the page it leads to."""
    with page.expect_navigation():
        page.click(selector)
    return page.inner_text(".messagelist")


def public_welsh(page, live_server) -> str:
    response = page.goto(f"{live_server.url}/cy/{GLUCAGONOMA}/")
    assert response.status == 200 and page.inner_text("article h1") == "Glwcagonoma"
    return page.inner_text("main")


@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_a_welsh_change_goes_live_only_through_review_and_publishing(browser, live_server, role_groups):
    call_command("load_demo_content", stdout=io.StringIO())
    UserFactory(username="eleri", first_name="Eleri", last_name="Jones", roles=[roles.EDITOR])
    UserFactory(username="rhys", first_name="Rhys", last_name="Evans", roles=[roles.CLINICAL_REVIEWER])
    UserFactory(username="pat", first_name="Pat", last_name="Price", roles=[roles.PUBLISHER])
    glucagonoma = Page.objects.get(path=GLUCAGONOMA)
    change = f"{live_server.url}/admin/pages/page/{glucagonoma.pk}/change/"

    # The editor adds a word to a Welsh section and sends the Welsh version for review.
    editor = signed_in(browser, live_server, "eleri")
    editor.goto(change)
    editor.click('a[href="#tab_id_sections-1-body_cy"]')
    editor.locator("#id_sections-1-body_cy ~ .ProseMirror").click()
    editor.keyboard.press("Control+End")
    editor.keyboard.type(f" {WORD}")
    editor.fill("#id_change_comment", "Gair newydd.")
    editor.click("input[name=_continue]")
    editor.wait_for_selector(".messagelist .success")
    editor.check('.workflow-submit input[name=languages][value="cy"]')
    editor.fill(".workflow-submit textarea, .workflow-submit input[name=comment]", "Please check the Welsh.")
    assert "is in review (Cymraeg)" in press(editor, ".workflow-submit button[type=submit]")
    review = ReviewRequest.objects.get(page=glucagonoma, language="cy", state="in_review")
    review_url = f"{live_server.url}/admin/pages/page/{glucagonoma.pk}/workflow/review/{review.pk}/"

    # The editor may not approve it.
    editor.goto(review_url)
    assert editor.locator("button[name=approve]").count() == 0
    assert WORD not in public_welsh(editor, live_server)

    # The reviewer sees the word added in the diff against the live version, and approves.
    reviewer = signed_in(browser, live_server, "rhys")
    reviewer.goto(change)
    reviewer.click(f'.workflow-panel a[href$="/workflow/review/{review.pk}/"]')
    assert WORD in " ".join(reviewer.locator(".review-screen ins").all_inner_texts())
    assert "Approved" in press(reviewer, "button[name=approve]")
    assert WORD not in public_welsh(reviewer, live_server)  # approved is not live

    # The publisher publishes it; now the public Welsh page has the word.
    publisher = signed_in(browser, live_server, "pat")
    publisher.goto(change)
    assert "live" in press(publisher, ".workflow-panel form button.default")
    text = public_welsh(publisher, live_server)
    assert WORD in text
    assert re.search(rf"\b{WORD}\b", text)
    for page in (editor, reviewer, publisher):
        page.context.close()
