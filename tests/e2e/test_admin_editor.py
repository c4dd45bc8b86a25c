"""The rich-text editor in the admin keeps every link and term an editor did not touch."""

import io
import json
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from pages.models import LiveSnapshot, Page
from review import roles
from tests.factories import PageFactory, UserFactory

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


AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page, selector: str = "document") -> list[str]:
    """axe-core's findings (WCAG 2.2 AA) in the element ``selector``, or the whole page."""
    if not AXE.exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"No {AXE}: run npm ci in tests/e2e (make does).")
        pytest.skip("axe-core is not installed: npm ci --prefix tests/e2e")
    page.add_script_tag(path=str(AXE))
    context = "document" if selector == "document" else json.dumps(selector)
    result = page.evaluate(f"tags => axe.run({context}, {{runOnly: {{type: 'tag', values: tags}}}})", WCAG_22_AA)
    assert result["passes"], "axe-core checked nothing"
    return [
        f"{violation['id']}: {violation['help']} at {[node['target'] for node in violation['nodes'][:3]]}"
        for violation in result["violations"]
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_a_new_pages_slug_follows_its_title_until_the_editor_writes_one_and_an_old_pages_never(
    page, live_server, role_groups
):
    editor = UserFactory(username="eleri", roles=[roles.EDITOR])
    insulinoma = PageFactory(slug="insulinoma", title_en="Insulinoma")
    log_in(page, live_server, "eleri")
    page.goto(f"{live_server.url}/admin/pages/page/add/")
    assert page.input_value("#id_owner") == str(editor.pk)  # the person adding it, unless they choose another
    page.locator("#id_title_en").press_sequentially("Living with MEN1 syndrome")
    assert page.input_value("#id_slug") == "living-with-men1-syndrome"
    page.click('a[href="#tab_id_title_cy"]')
    page.locator("#id_title_cy").press_sequentially("Byw gyda syndrom MEN1")  # the source language's title leads
    assert page.input_value("#id_slug") == "living-with-men1-syndrome"
    page.fill("#id_slug", "men1")
    page.locator("#id_slug").dispatch_event("change")  # as leaving the field does
    page.click('a[href="#tab_id_title_en"]')
    page.locator("#id_title_en").press("End")
    page.locator("#id_title_en").press_sequentially(" and you")
    assert page.input_value("#id_slug") == "men1"  # the editor's own, kept
    page.fill("#id_change_comment", "A new page on MEN1.")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert Page.objects.get(slug="men1").title_en == "Living with MEN1 syndrome and you"

    # A page that exists keeps its address, whatever its title becomes.
    page.goto(f"{live_server.url}/admin/pages/page/{insulinoma.pk}/change/")
    page.locator("#id_title_en").press("End")
    page.locator("#id_title_en").press_sequentially(" in adults")
    assert page.input_value("#id_slug") == "insulinoma"
    assert page.csp_violations == []


@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_a_section_added_is_numbered_after_the_last_and_the_section_list_follows(page, live_server, role_groups):
    glucagonoma = glucagonoma_form_for_an_editor(page, live_server)
    last = glucagonoma.sections.order_by("-position").values_list("position", flat=True)[0]
    count = glucagonoma.sections.count()
    navigator = page.locator("#section-navigator")
    assert navigator.is_visible() and f"({count})" in navigator.locator("summary").inner_text()

    page.click("#sections-group .add-row a")
    page.click("#sections-group .add-row a")
    assert page.input_value(f"#id_sections-{count}-position") == str(last + 1)
    assert page.input_value(f"#id_sections-{count + 1}-position") == str(last + 2)
    navigator.locator("summary").click()
    links = navigator.locator("li a")
    assert links.count() == count + 2 and f"({count + 2})" in navigator.locator("summary").inner_text()
    assert links.nth(count).inner_text() == f"Section {count + 1}, without a heading"
    page.fill(f"#id_sections-{count}-heading_en", "Living with it")
    assert links.nth(count).inner_text() == "Living with it"  # as it is typed
    page.click(f"#sections-{count + 1} .inline-deletelink")
    assert links.count() == count + 1

    # The menu of languages beside the title has a name to be announced by.
    assert page.get_by_role("combobox", name="Language of the fields shown").is_visible()
    assert page.csp_violations == []


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_the_section_list_takes_the_keyboard_to_each_section_in_english_and_arabic(
    browser, live_server, role_groups, language
):
    # The test's own script (axe-core) goes in past the Content-Security-Policy; the admin does not need it.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=language, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    glucagonoma = glucagonoma_form_for_an_editor(page, live_server)
    sections = list(glucagonoma.sections.all())
    navigator = page.locator("#section-navigator")
    assert navigator.evaluate("e => getComputedStyle(e).direction") == ("rtl" if language == "ar" else "ltr")

    summary = navigator.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert navigator.locator("details").evaluate("e => e.open")
    # Each section by its heading in the admin's language, else the source language's, marked so.
    first = navigator.locator("li a span").first
    assert (first.inner_text(), first.get_attribute("lang")) == (getattr(sections[0], f"heading_{language}"), language)
    untranslated = next((s for s in sections if not getattr(s, f"heading_{language}")), None)
    if untranslated is not None:
        name = navigator.locator("li a span").nth(sections.index(untranslated))
        assert (name.inner_text(), name.get_attribute("lang")) == (untranslated.heading_en, "en")
    assert axe_violations(page, "#section-navigator") == []

    for _link in range(6):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#sections-5"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.closest('.inline-related').id") == "sections-5"
    assert page.evaluate("location.hash") == "#sections-5"
    assert not navigator.locator("details").evaluate("e => e.open")  # closed again, out of the way
    bar = navigator.bounding_box()
    title = page.locator("#sections-5 > h3").bounding_box()
    assert bar["y"] + bar["height"] <= title["y"] < 800  # in sight, not under the bar

    summary.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    assert not navigator.locator("details").evaluate("e => e.open")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    context.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_a_reviewer_reads_arabic_right_to_left_and_meets_no_empty_menu(browser, live_server, role_groups):
    call_command("load_demo_content", stdout=io.StringIO())
    UserFactory(username="rhys", roles=[roles.CLINICAL_REVIEWER])
    glucagonoma = Page.objects.get(path=GLUCAGONOMA)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, "rhys")
    page.goto(f"{live_server.url}/admin/pages/page/{glucagonoma.pk}/change/")
    page.wait_for_load_state("load")

    for name, direction in (("title_ar", "rtl"), ("summary_ar", "rtl"), ("title_cy", "ltr")):
        shown = page.locator(f".field-{name} .readonly [lang]")
        assert shown.evaluate("e => [e.lang, getComputedStyle(e).direction]") == [name[-2:], direction]
    assert (
        page.locator("#sections-1 .field-body_ar .readonly [lang=ar]").evaluate("e => getComputedStyle(e).direction")
        == "rtl"
    )
    # modeltranslation's menu of languages has nothing to switch here: not shown, not in the way of the keyboard.
    menu = page.locator("#modeltranslation-main-switch")
    assert not menu.is_visible()
    assert not menu.evaluate("e => { e.focus(); return document.activeElement === e; }")
    assert page.locator("#section-navigator li").count() == glucagonoma.sections.count()
    assert axe_violations(page) == []
    context.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_without_javascript_the_form_saves_as_it_always_did(browser, live_server, role_groups):
    call_command("load_demo_content", stdout=io.StringIO())
    UserFactory(username="eleri", roles=[roles.EDITOR])
    glucagonoma = Page.objects.get(path=GLUCAGONOMA)
    before = {(s.pk, code): getattr(s, f"body_{code}") for s in glucagonoma.sections.all() for code in ("en", "cy")}
    context = browser.new_context(viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "eleri")
    page.fill("#id_password", "a-long-test-password")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/pages/page/{glucagonoma.pk}/change/")
    assert not page.locator("#section-navigator").is_visible()
    page.fill("#id_title_cy", "Glwcagonoma (wedi'i ddiweddaru)")
    page.fill("#id_change_comment", "Teitl newydd.")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert Page.objects.get(pk=glucagonoma.pk).title_cy == "Glwcagonoma (wedi'i ddiweddaru)"
    after = {(s.pk, code): getattr(s, f"body_{code}") for s in glucagonoma.sections.all() for code in ("en", "cy")}
    assert after == before
    context.close()


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_each_language_tab_says_its_field_and_language_and_the_arrow_keys_move_between_them(
    browser, live_server, role_groups, language
):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=language, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    glucagonoma_form_for_an_editor(page, live_server)
    page.wait_for_load_state("load")
    # Named by the field's label and the language's own name ("Title, Cymraeg"), in the admin's language.
    label = page.inner_text("label[for=id_title_en]").rstrip(":").strip()
    tablist = page.get_by_role("tablist", name=label)
    tabs = tablist.get_by_role("tab")
    for tab, own in zip((tabs.nth(index) for index in range(3)), ("English", "Cymraeg", "العربيّة"), strict=True):
        name = tab.evaluate("e => e.textContent")
        assert name.startswith(label) and name.endswith(own) and tab.locator("[lang]").inner_text() == own, name
    if language == "en":
        assert page.get_by_role("tab", name="Title, Cymraeg", exact=True).count() == 1
    # One Tab stop, the open one: its language is the admin's.
    opened = LANGUAGES.index(language)
    assert [tabs.nth(index).get_attribute("tabindex") for index in range(3)] == [
        "0" if index == opened else "-1" for index in range(3)
    ]
    assert tablist.locator("li[role=tab], li[tabindex]").count() == 0  # the list items are layout only

    tabs.nth(opened).focus()
    # The next language: to the right, or to the left in Arabic.
    page.keyboard.press("ArrowLeft" if language == "ar" else "ArrowRight")
    following = LANGUAGES[(opened + 1) % 3]
    assert page.evaluate("document.activeElement.getAttribute('href')") == f"#tab_id_title_{following}"
    assert page.is_visible(f"#id_title_{following}") and not page.is_visible(f"#id_title_{language}")
    assert page.evaluate("document.activeElement.getAttribute('aria-selected')") == "true"
    page.keyboard.press("Home")
    assert page.is_visible("#id_title_en")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_title_en"  # from the tabs to the field

    # A section added gets its tabs named too.
    page.click("#sections-group .add-row a")
    added = page.locator("#sections-group .inline-related:not(.empty-form)").last
    assert added.get_by_role("tab").first.locator("[lang]").inner_text() == "English"
    assert added.get_by_role("tab").first.get_attribute("aria-controls").startswith("tab_id_sections-")
    # Scanned from the top: scrolled down, the bar of sections that stays at the top covers part of
    # whatever passes under it, which axe counts as a target made too small.
    page.evaluate("window.scrollTo(0, 0)")
    assert axe_violations(page) == []
    context.close()


LANGUAGES = ["en", "cy", "ar"]


@pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")
def test_a_rich_text_editor_is_named_and_its_toolbar_says_what_is_on_and_what_cannot_be_used(
    browser, live_server, role_groups
):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    glucagonoma_form_for_an_editor(page, live_server)
    page.wait_for_selector("#tab_id_sections-1-body_en .prose-menubar[role=toolbar]")
    editor = page.get_by_role("textbox", name="Body, English").nth(1)
    assert editor.get_attribute("aria-describedby") == "id_sections-1-body_en_helptext"
    toolbar = page.get_by_role("toolbar", name="Formatting Body, English").nth(1)
    bold = toolbar.get_by_role("button", name="bold")
    undo = toolbar.get_by_role("button", name="undo")
    assert bold.get_attribute("aria-pressed") == "false"
    assert undo.get_attribute("aria-disabled") == "true" and undo.get_attribute("aria-pressed") is None

    # One Tab stop in the toolbar; the arrow keys go from button to button, past those that cannot be used.
    editor.click(position={"x": 20, "y": 12})  # in the first paragraph: in a list, Shift+Tab would outdent
    page.keyboard.press("Shift+End")
    page.keyboard.press("Shift+Tab")
    style = toolbar.get_by_role("button", name="Text style paragraph")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "paragraph", page.evaluate(
        "document.activeElement.outerHTML"
    )
    assert style.get_attribute("aria-expanded") == "false"
    for _button in range(3):  # unordered list, ordered list (list properties hidden), bold
        page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "bold"
    page.keyboard.press("Enter")
    assert bold.get_attribute("aria-pressed") == "true"
    assert page.evaluate("document.activeElement.getAttribute('role')") == "textbox"  # back to the text
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "bold"  # where it was left
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.getAttribute('aria-disabled')") != "true"

    # The menu of text styles opens, is chosen from with the arrow keys and closes with Escape.
    page.keyboard.press("Home")
    page.keyboard.press("Enter")
    assert style.get_attribute("aria-expanded") == "true"
    page.wait_for_function("document.activeElement.textContent === 'Heading 3'")  # once it is open
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == "Heading 4"
    page.keyboard.press("Escape")
    assert style.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "paragraph"

    # The change comment is described by its help, which is there; the autocomplete boxes are named by their labels.
    assert page.get_attribute("#id_change_comment", "aria-describedby") == "id_change_comment_helptext"
    assert page.locator("#id_change_comment_helptext").count() == 1
    assert page.get_by_role("searchbox", name="Related pages:").count() == 1
    page.goto(f"{live_server.url}/admin/pages/page/add/")
    page.wait_for_load_state("load")
    assert page.get_by_role("combobox", name="Parent page:").count() == 1
    context.close()
