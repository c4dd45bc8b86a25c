"""The rich-text editor in the admin keeps every link and term an editor did not touch."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from pages.models import LiveSnapshot, Page
from review import roles
from tests.factories import UserFactory

GLUCAGONOMA = "neuroendocrine-cancer/pancreatic-neuroendocrine-tumours/glucagonoma"


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


# On PostgreSQL the database's first state is restored afterwards, as the tests that follow expect.
@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_welsh_edit_in_the_browser_changes_only_what_was_typed(page, live_server, client, role_groups):
    call_command("load_demo_content", stdout=io.StringIO())
    UserFactory(username="eleri", roles=[roles.EDITOR])
    glucagonoma = Page.objects.get(path=GLUCAGONOMA)
    sections = list(glucagonoma.sections.all())
    before = {(s.pk, code): getattr(s, f"body_{code}") for s in sections for code in ("en", "cy", "ar")}
    pancreas = sections[1]
    assert 'href="term:digestive-system"' in pancreas.body_cy

    log_in(page, live_server, "eleri")
    page.goto(f"{live_server.url}/admin/pages/page/{glucagonoma.pk}/change/")
    page.click('a[href="#tab_id_sections-1-body_cy"]')
    editor = page.locator("#id_sections-1-body_cy ~ .ProseMirror")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" GAIRPRAWF")
    page.fill("#id_change_comment", "Ychwanegu gair prawf.")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")

    for section in glucagonoma.sections.all():
        for code in ("en", "cy", "ar"):
            expected = before[(section.pk, code)]
            if section.pk == pancreas.pk and code == "cy":
                expected = expected.removesuffix("</p>") + " GAIRPRAWF</p>"
            assert getattr(section, f"body_{code}") == expected, (section.heading_en, code)

    # The public page too runs under the policy without a single violation.
    page.goto(f"{live_server.url}/cy/{GLUCAGONOMA}/")
    assert page.csp_violations == []

    # The edit is in the working copy only: the public Welsh page is unchanged.
    assert "GAIRPRAWF" not in client.get(f"/cy/{GLUCAGONOMA}/").content.decode()
    assert "GAIRPRAWF" not in str(LiveSnapshot.objects.get(page=glucagonoma, language="cy").content)


def glucagonoma_form_for_an_editor(page, live_server) -> Page:
    """The demo content, and its glucagonoma page's form open in the browser of an editor."""
    call_command("load_demo_content", stdout=io.StringIO())
    UserFactory(username="eleri", roles=[roles.EDITOR])
    glucagonoma = Page.objects.get(path=GLUCAGONOMA)
    log_in(page, live_server, "eleri")
    page.goto(f"{live_server.url}/admin/pages/page/{glucagonoma.pk}/change/")
    return glucagonoma


@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_arabic_is_typed_right_to_left_and_each_editor_knows_its_language(page, live_server, role_groups):
    glucagonoma_form_for_an_editor(page, live_server)
    assert page.eval_on_selector("#id_title_ar", "e => getComputedStyle(e).direction") == "rtl"
    assert page.eval_on_selector("#id_title_en", "e => getComputedStyle(e).direction") == "ltr"
    arabic = page.locator("#id_sections-1-body_ar ~ .ProseMirror")
    welsh = page.locator("#id_sections-1-body_cy ~ .ProseMirror")
    page.wait_for_function("document.querySelector('#id_sections-1-body_ar ~ .ProseMirror[dir]') !== null")
    assert (arabic.get_attribute("lang"), arabic.get_attribute("dir")) == ("ar", "rtl")
    assert (welsh.get_attribute("lang"), welsh.get_attribute("dir")) == ("cy", "ltr")
    page.click('a[href="#tab_id_sections-1-body_ar"]')
    assert arabic.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert page.csp_violations == []


@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_an_error_in_the_welsh_tab_opens_that_tab_and_the_summary_leads_to_each_field(page, live_server, role_groups):
    glucagonoma = glucagonoma_form_for_an_editor(page, live_server)
    page.click('a[href="#tab_id_title_cy"]')
    page.eval_on_selector("#id_title_cy", "field => field.removeAttribute('maxlength')")  # as a script might
    page.fill("#id_title_cy", "G" * 201)
    page.click('a[href="#tab_id_title_en"]')  # back on the English tab, as an editor would leave it
    page.click("input[name=_continue]")
    page.wait_for_selector(".error-summary")

    assert page.is_visible("#id_title_cy") and not page.is_visible("#id_title_en")  # the Welsh tab is open
    tab = page.locator('a[href="#tab_id_title_cy"]')
    assert "has-error" in tab.get_attribute("class") and "(has an error)" in tab.text_content()
    assert page.evaluate("document.activeElement.id") == "error-summary-title"
    page.click('.error-summary a[href="#id_change_comment"]')
    assert page.evaluate("document.activeElement.id") == "id_change_comment"
    page.click('.error-summary a[href="#id_title_cy"]')
    assert page.evaluate("document.activeElement.id") == "id_title_cy"
    assert page.csp_violations == []
    assert not Page.objects.get(pk=glucagonoma.pk).title_cy.startswith("GGG")
