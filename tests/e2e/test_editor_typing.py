"""Typing in the rich-text editor: text typed right after a link is not part of it,
and paragraphs left empty are not saved."""

import pytest
from django.db import connection

from pages.models import Page, Section
from review import roles
from tests.e2e.test_admin_editor import log_in
from tests.factories import PageFactory, SectionFactory, UserFactory

BODY = '<p>Glucagon is made in the <a href="term:pancreas" title="An organ behind the stomach.">pancreas</a></p>'


@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_a_full_stop_typed_after_a_glossary_term_is_not_part_of_it(page, live_server, role_groups):
    UserFactory(username="eleri", roles=[roles.EDITOR])
    topic = PageFactory(slug="glucagon", title_en="Glucagon")
    section = SectionFactory(page=topic, heading_en="What it is", body_en=BODY)

    log_in(page, live_server, "eleri")
    page.goto(f"{live_server.url}/admin/pages/page/{topic.pk}/change/")
    editor = page.locator("#id_sections-0-body_en ~ .ProseMirror")
    editor.click()
    # The cursor at the very end of the text, which is the end of the term's link.
    page.keyboard.press("Control+End")
    page.keyboard.type(". ")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.type("It raises the blood sugar level.")
    page.keyboard.press("Enter")
    page.fill("#id_change_comment", "Finish the sentence.")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")

    body = Section.objects.get(pk=section.pk).body_en
    assert body == (
        '<p>Glucagon is made in the <a href="term:pancreas" title="An organ behind the stomach.">pancreas</a>. </p>'
        "<p>It raises the blood sugar level.</p>"
    )
    assert Page.objects.get(pk=topic.pk).title_en == "Glucagon"


@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_an_editor_previews_what_they_typed_before_saving(page, live_server, role_groups):
    UserFactory(username="eleri", roles=[roles.EDITOR])
    topic = PageFactory(slug="glucagon", title_en="Glucagon", title_cy="Glwcagon")
    section = SectionFactory(
        page=topic, heading_en="What it is", heading_cy="Beth ydyw", body_en=BODY, body_cy="<p>Hormon.</p>"
    )

    log_in(page, live_server, "eleri")
    page.goto(f"{live_server.url}/admin/pages/page/{topic.pk}/change/")
    page.click('a[href="#tab_id_sections-0-body_cy"]')
    page.locator("#id_sections-0-body_cy ~ .ProseMirror").click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Mae'n codi lefel y siwgr.")
    with page.context.expect_page() as opened:
        page.click("button[formaction$='/preview/unsaved/cy/']")
    preview = opened.value
    preview.wait_for_load_state()
    assert preview.locator("html").get_attribute("lang") == "cy"
    assert "Hormon. Mae'n codi lefel y siwgr." in preview.locator("main").inner_text()
    assert "Rhagolwg o newidiadau heb eu cadw" in preview.locator(".preview-banner").inner_text()  # in Welsh
    # Nothing was saved: the form is still open with the words typed, the database as it was.
    assert Section.objects.get(pk=section.pk).body_cy == "<p>Hormon.</p>"
    assert "codi lefel" in page.locator("#id_sections-0-body_cy ~ .ProseMirror").inner_text()
