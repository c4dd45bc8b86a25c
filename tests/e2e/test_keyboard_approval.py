"""The sign-off by keyboard alone, in a real browser: a clinical reviewer signs in, goes from
the work inbox to the review screen, reads the change and approves it, and a publisher
publishes it, with Tab, Shift+Tab, Enter and typing only (no mouse, no script moving the
focus), and every element the focus lands on shows it, unlike when it does not have it."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from pages import history
from pages.models import Page
from review import roles, services
from review.models import ReviewRequest
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")

GLUCAGONOMA = "neuroendocrine-cancer/pancreatic-neuroendocrine-tumours/glucagonoma"
WORD = "KEYBOARDWORD"
PASSWORD = "a-long-test-password"

# How an element shows the focus: its outline and its shadow.
FOCUS_STYLE = """element => {
  const style = getComputedStyle(element);
  return {outline: [style.outlineStyle, style.outlineWidth, style.outlineColor].join(" "),
          width: parseFloat(style.outlineWidth) || 0, style: style.outlineStyle, shadow: style.boxShadow};
}"""


def shows_focus(style: dict) -> bool:
    return (style["style"] != "none" and style["width"] >= 1) or style["shadow"] != "none"


def describe(element) -> str:
    return element.evaluate("e => e.outerHTML.slice(0, 160)")


def press_until(page, key: str, wanted: str, *, limit: int = 200):
    """Press ``key`` (Tab or Shift+Tab) until the focus is on an element matching the CSS
    selector ``wanted``; each element the focus lands on on the way must show it, and look
    different once the focus has moved on. The element reached, with the focus."""
    back = "Shift+Tab" if key == "Tab" else "Tab"
    previous = None  # the element focused before, and how it looked then
    for _press in range(limit):
        page.keyboard.press(key)
        element = page.evaluate_handle("document.activeElement")
        if previous is not None and not previous[0].evaluate("(e, now) => e === now", element):
            unfocused = previous[0].evaluate(FOCUS_STYLE)
            assert unfocused != previous[1], f"the focus looks like no focus on {describe(previous[0])}"
        focused = element.evaluate(FOCUS_STYLE)
        assert shows_focus(focused), f"no focus to be seen on {describe(element)}: {focused}"
        if element.evaluate("(e, wanted) => e.matches(wanted)", wanted):
            # How it looks without the focus: away and back again, by the keyboard too.
            page.keyboard.press(back)
            unfocused = element.evaluate(FOCUS_STYLE)
            page.keyboard.press(key)
            assert page.evaluate("e => document.activeElement === e", element)
            assert unfocused != focused, f"the focus looks like no focus on {describe(element)}"
            return element
        previous = (element, focused)
    raise AssertionError(f"{limit} presses of {key} and the focus never reached {wanted}")


def sign_in_by_keyboard(browser, live_server, username: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/")
    if page.evaluate("document.activeElement.id") != "id_username":  # the field is focused on arrival
        press_until(page, "Tab", "#id_username")
    page.keyboard.type(username)
    press_until(page, "Tab", "#id_password")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{live_server.url}/admin/"
    return context, page


def follow(page, key: str = "Enter") -> None:
    with page.expect_navigation():
        page.keyboard.press(key)
    page.wait_for_load_state("load")


@pytest.mark.parametrize("colour_scheme", ["light", "dark"])
def test_a_reviewer_approves_and_a_publisher_publishes_by_keyboard_alone(
    browser, live_server, role_groups, colour_scheme
):
    call_command("load_demo_content", stdout=io.StringIO())
    editor = UserFactory(username="eleri", first_name="Eleri", last_name="Jones", roles=[roles.EDITOR])
    UserFactory(username="rhys", first_name="Rhys", last_name="Evans", roles=[roles.CLINICAL_REVIEWER])
    UserFactory(username="pat", first_name="Pat", last_name="Price", roles=[roles.PUBLISHER])
    glucagonoma = Page.objects.get(path=GLUCAGONOMA)
    section = glucagonoma.sections.order_by("position")[1]
    with history.revision(user=editor, comment="A word more."):
        section.body_en = section.body_en.removesuffix("</p>") + f" {WORD}</p>"
        section.save()
    (review,) = services.submit(page=glucagonoma, languages=["en"], user=editor, comment="Please check.")

    # The reviewer: from the inbox to the review screen, the change read, approved.
    context, reviewer = sign_in_by_keyboard(browser, live_server, "rhys")
    reviewer.emulate_media(color_scheme=colour_scheme)
    press_until(reviewer, "Tab", f".inbox a[href$='/workflow/review/{review.pk}/']")
    follow(reviewer)
    assert reviewer.url.endswith(f"/workflow/review/{review.pk}/")
    assert WORD in " ".join(reviewer.locator(".review-screen ins").all_inner_texts())
    press_until(reviewer, "Tab", ".review-decision button[name=approve]")
    follow(reviewer)
    assert "Approved" in reviewer.inner_text(".messagelist")
    review.refresh_from_db()
    assert review.state == "approved"
    context.close()

    # The publisher: from the inbox to the page, published.
    context, publisher = sign_in_by_keyboard(browser, live_server, "pat")
    publisher.emulate_media(color_scheme=colour_scheme)
    press_until(publisher, "Tab", f".inbox a[href$='/pages/page/{glucagonoma.pk}/change/']")
    follow(publisher)
    button = f".workflow-panel form[action$='/workflow/publish/{review.pk}/'] button"
    press_until(publisher, "Tab", button)
    follow(publisher, "Space")
    assert "live" in publisher.inner_text(".messagelist")
    assert ReviewRequest.objects.get(pk=review.pk).state == "published"
    publisher.goto(f"{live_server.url}/en/{GLUCAGONOMA}/")
    assert WORD in publisher.inner_text("main")
    context.close()


def test_the_focus_shows_on_the_review_screen_going_back_with_shift_tab(browser, live_server, role_groups):
    """Backwards too: from the decision up to the preview link."""
    call_command("load_demo_content", stdout=io.StringIO())
    editor = UserFactory(username="eleri", roles=[roles.EDITOR])
    UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    glucagonoma = Page.objects.get(path=GLUCAGONOMA)
    with history.revision(user=editor, comment="A clearer title."):
        glucagonoma.title_en = "Glucagonoma (a rare tumour)"
        glucagonoma.save()
    (review,) = services.submit(page=glucagonoma, languages=["en"], user=editor)
    context, page = sign_in_by_keyboard(browser, live_server, "rhys")
    press_until(page, "Tab", f".inbox a[href$='/workflow/review/{review.pk}/']")
    follow(page)
    press_until(page, "Tab", ".review-decision button[name=request_changes]")
    press_until(page, "Shift+Tab", ".review-screen a[target=_blank]")
    context.close()
