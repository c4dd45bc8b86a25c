"""The section editor's link and glossary-term dialogs in a real browser: an editor finds a page
by its Welsh title, makes words a new glossary term or one the site already uses, edits a term,
all by keyboard too; the dialogs are accessible, and right to left in Arabic."""

import re

import pytest
from django.db import connection

from pages.models import Page, Section
from tests.e2e.test_admin_editor import GLUCAGONOMA, axe_violations, glucagonoma_form_for_an_editor

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")

PNETS = "neuroendocrine-cancer/pancreatic-neuroendocrine-tumours"
DIALOG = "dialog.prose-tools-dialog[open]"


def editor_of(field: str) -> str:
    return f"#{field} ~ .ProseMirror"


def tool(field: str, name: str) -> str:
    """A toolbar button of the editor of ``field`` (its textarea's id)."""
    return f".prose-editor:has(#{field}) .prose-menubar button[data-name={name}]"


def show(page, field: str) -> None:
    """Open the language tab of ``field`` (``id_sections-2-body_cy``) and wait for its editor."""
    # The tabs are made when the page has loaded (without them, every language's field shows).
    page.wait_for_selector(editor_of(field), state="attached")
    tab = page.locator(f'a[href="#tab_{field}"]')
    if tab.count():
        tab.click()
    page.wait_for_selector(editor_of(field))


def select_words(page, field: str, words: str) -> None:
    """Select the first ``words`` in the editor of ``field``, as dragging the mouse over them does."""
    found = page.evaluate(
        """([selector, words]) => {
            const root = document.querySelector(selector)
            root.focus()
            const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT)
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const at = node.data.indexOf(words)
                if (at === -1) continue
                const range = document.createRange()
                range.setStart(node, at)
                range.setEnd(node, at + words.length)
                getSelection().removeAllRanges()
                getSelection().addRange(range)
                return true
            }
            return false
        }""",
        [editor_of(field), words],
    )
    assert found, f"{words!r} is not in {field}"
    page.wait_for_function(
        "([selector, words]) => document.querySelector(selector).contains(getSelection().anchorNode)"
        " && getSelection().toString() === words",
        arg=[editor_of(field), words],
    )


def save(page, comment: str) -> None:
    page.fill("#id_change_comment", comment)
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")


def focused(page) -> str:
    return page.evaluate("document.activeElement.closest('dialog') ? 'dialog' : document.activeElement.className")


def test_an_editor_links_welsh_words_to_a_page_found_by_its_welsh_title(page, live_server, role_groups):
    glucagonoma = glucagonoma_form_for_an_editor(page, live_server)
    pnets = Page.objects.get(path=PNETS)
    section = glucagonoma.sections.get(position=2)
    field = "id_sections-2-body_cy"
    show(page, field)
    select_words(page, field, "yn y pancreas")
    page.click(tool(field, "link"))

    dialog = page.locator(DIALOG)
    search = dialog.get_by_role("searchbox", name="Find a page of this site")
    assert search.evaluate("e => e === document.activeElement")  # the focus went into the dialog
    search.fill("Tiwmorau niwro")
    result = dialog.get_by_role("list", name="Pages found").get_by_role("button")
    result.first.wait_for()
    assert result.count() == 1
    assert f"/cy/{PNETS}/" in result.first.inner_text() and "Live" in result.first.inner_text()
    result.first.click()
    assert dialog.get_by_role("textbox", name="Link address").input_value() == f"page:{pnets.pk}"
    chosen = dialog.locator(".prose-tools-chosen")
    assert chosen.inner_text() == f"Links to: Pancreatic neuroendocrine tumours (/cy/{PNETS}/)."
    assert chosen.get_attribute("aria-live") == "polite"
    dialog.get_by_role("button", name="Save link").click()
    page.wait_for_selector(DIALOG, state="detached")
    assert focused(page).startswith("tiptap ProseMirror")  # back in the editor

    save(page, "Cysylltu â thudalen y tiwmorau.")
    body = Section.objects.get(pk=section.pk).body_cy
    assert f'Mae glwcagonomâu yn dechrau <a href="page:{pnets.pk}">yn y pancreas</a>.' in body
    assert page.csp_violations == []


def test_a_pasted_address_and_another_sites_address_still_make_links(page, live_server, role_groups):
    glucagonoma = glucagonoma_form_for_an_editor(page, live_server)
    pnets = Page.objects.get(path=PNETS)
    section = glucagonoma.sections.get(position=2)
    field = "id_sections-2-body_en"
    show(page, field)
    for words, address in [("the pancreas", f"{live_server.url}/en/{PNETS}/"), ("very rare", "https://www.nhs.uk/")]:
        select_words(page, field, words)
        page.keyboard.press("Control+k")
        page.locator(DIALOG).get_by_role("textbox", name="Link address").fill(address)
        page.keyboard.press("Enter")
        page.wait_for_selector(DIALOG, state="detached")
    save(page, "Link the pancreas and the NHS.")
    body = Section.objects.get(pk=section.pk).body_en
    assert f'<a href="page:{pnets.pk}">the pancreas</a>' in body
    assert '<a href="https://www.nhs.uk/">very rare</a>' in body


def test_an_editor_makes_welsh_words_a_new_glossary_term(page, live_server, role_groups):
    glucagonoma = glucagonoma_form_for_an_editor(page, live_server)
    section = glucagonoma.sections.get(position=2)
    field = "id_sections-2-body_cy"
    show(page, field)
    select_words(page, field, "nghynffon y pancreas")
    page.click(tool(field, "glossaryTerm"))

    dialog = page.locator(DIALOG)
    assert "nghynffon y pancreas" in dialog.locator(".prose-tools-words").inner_text()
    name = dialog.get_by_role("textbox", name="Short name")
    assert name.input_value() == "nghynffon-y-pancreas"  # from the words, for the editor to change
    name.fill("pancreas-tail")
    definition = dialog.get_by_role("textbox", name="Definition, in Welsh")
    assert definition.get_attribute("lang") == "cy"
    definition.fill("Pen cul y pancreas, ar yr ochr chwith.")
    dialog.get_by_role("button", name="Save term").click()
    page.wait_for_selector(DIALOG, state="detached")

    save(page, "Esbonio cynffon y pancreas.")
    body = Section.objects.get(pk=section.pk).body_cy
    assert (
        'yng <a href="term:pancreas-tail" title="Pen cul y pancreas, ar yr ochr chwith.">nghynffon y pancreas</a>.'
        in body
    )
    assert page.csp_violations == []


def test_an_editor_chooses_a_term_and_definition_the_welsh_site_already_uses(page, live_server, role_groups):
    glucagonoma = glucagonoma_form_for_an_editor(page, live_server)
    section = glucagonoma.sections.get(position=3)
    field = "id_sections-3-body_cy"
    show(page, field)
    select_words(page, field, "yr hormon")
    page.click(tool(field, "glossaryTerm"))

    dialog = page.locator(DIALOG)
    search = dialog.get_by_role("searchbox", name="Find a term already used on the site")
    assert search.input_value() == "yr hormon"  # the words selected are looked for at once
    search.fill("hormon")
    terms = dialog.get_by_role("list", name="Terms found").get_by_role("button")
    terms.first.wait_for()
    hormone = terms.filter(has_text="hormonau")
    assert hormone.count() == 1
    hormone.click()
    offered = dialog.get_by_role("group", name="Definitions of “hormone” already used in Welsh")
    known = offered.get_by_role("button")
    assert known.count() == 1 and known.first.evaluate("e => e === document.activeElement")
    known.first.click()
    definition = dialog.get_by_role("textbox", name="Definition, in Welsh")
    assert definition.input_value().startswith("Negesydd cemegol")
    definition.press("End")
    definition.type(" Er enghraifft, glwcagon.")
    assert dialog.get_by_role("textbox", name="Short name").input_value() == "hormone"
    dialog.get_by_role("button", name="Save term").click()
    page.wait_for_selector(DIALOG, state="detached")

    save(page, "Esbonio'r hormon.")
    body = Section.objects.get(pk=section.pk).body_cy
    link = re.search(r'<a href="term:hormone" title="([^"]*)">yr hormon</a>', body)
    assert link, body[:300]
    assert link[1].startswith("Negesydd cemegol") and link[1].endswith("gweithio. Er enghraifft, glwcagon.")


def test_a_term_is_edited_in_the_same_dialog_and_escape_changes_nothing(page, live_server, role_groups):
    glucagonoma = glucagonoma_form_for_an_editor(page, live_server)
    section = glucagonoma.sections.get(position=1)
    field = "id_sections-1-body_cy"
    show(page, field)
    select_words(page, field, "dreulio")  # a part of the term is enough
    page.click(tool(field, "glossaryTerm"))
    dialog = page.locator(DIALOG)
    definition = dialog.get_by_role("textbox", name="Definition, in Welsh")
    assert definition.evaluate("e => e === document.activeElement")
    assert definition.input_value().startswith("Yr organau sy'n cymryd bwyd i mewn")
    assert dialog.get_by_role("textbox", name="Short name").input_value() == "digestive-system"
    definition.fill("Y stumog, y pancreas a'r coluddyn.")
    page.keyboard.press("Escape")
    page.wait_for_selector(DIALOG, state="detached")
    assert focused(page).startswith("tiptap ProseMirror")

    # The link button, on a term, opens the term's dialog too.
    page.click(tool(field, "link"))
    dialog.get_by_role("textbox", name="Definition, in Welsh").fill("Y stumog, y pancreas a’r coluddyn.")
    dialog.get_by_role("button", name="Save term").click()
    page.wait_for_selector(DIALOG, state="detached")
    save(page, "Diffiniad byrrach.")
    body = Section.objects.get(pk=section.pk).body_cy
    assert '<a href="term:digestive-system" title="Y stumog, y pancreas a’r coluddyn.">system dreulio</a>' in body


def test_a_page_link_by_keyboard_alone(page, live_server, role_groups):
    glucagonoma = glucagonoma_form_for_an_editor(page, live_server)
    pnets = Page.objects.get(path=PNETS)
    section = glucagonoma.sections.get(position=2)
    field = "id_sections-2-body_cy"
    show(page, field)
    page.wait_for_load_state("networkidle")  # every editor made, the dialogs' words fetched
    page.focus(editor_of(field))
    page.keyboard.press("Control+Home")
    selected = ""
    for _ in range(40):  # a key pressed while the page is busy may go unheard: press until done
        if selected == "Mae glwcagonomâu":
            break
        page.keyboard.press("Shift+ArrowRight")
        selected = page.evaluate("getSelection().toString()")
    assert selected == "Mae glwcagonomâu"
    page.wait_for_timeout(200)  # the editor hears of a new selection a moment after the page does
    page.keyboard.press("Control+k")
    page.wait_for_selector(DIALOG)
    assert page.evaluate("document.activeElement.type") == "search"
    page.keyboard.press("Control+a")
    page.keyboard.type("niwroendocrin y pancreas")
    page.locator(DIALOG).locator(".prose-tools-result", has_text="Pancreatic neuroendocrine tumours").wait_for()
    page.keyboard.press("ArrowDown")
    assert "Pancreatic neuroendocrine tumours" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")  # chosen: the focus is on "Save link"
    assert page.evaluate("document.activeElement.textContent") == "Save link"
    page.keyboard.press("Enter")
    page.wait_for_selector(DIALOG, state="detached")
    assert focused(page).startswith("tiptap ProseMirror")

    # Escape leaves the link as it was.
    page.keyboard.press("Control+k")
    page.wait_for_selector(DIALOG)
    page.keyboard.press("Escape")
    page.wait_for_selector(DIALOG, state="detached")
    save(page, "Cysylltu.")
    body = Section.objects.get(pk=section.pk).body_cy
    assert body.startswith(f'<p><a href="page:{pnets.pk}">{selected}</a>')


@pytest.fixture
def axe_page(browser, live_server):
    """A page in a context where the test's own script (axe-core) gets in past the
    Content-Security-Policy; the admin does not need that."""
    context = browser.new_context(viewport={"width": 1280, "height": 1600}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_both_dialogs_are_accessible_with_the_form_behind_them(axe_page, live_server, role_groups):
    page = axe_page
    glucagonoma_form_for_an_editor(page, live_server)
    field = "id_sections-2-body_cy"
    show(page, field)
    select_words(page, field, "yn y pancreas")
    page.click(tool(field, "link"))
    page.locator(DIALOG).get_by_role("searchbox").fill("glwc")
    page.locator(DIALOG).locator(".prose-tools-result").first.wait_for()
    assert axe_violations(page) == []
    page.keyboard.press("Escape")

    page.click(tool(field, "glossaryTerm"))
    page.locator(DIALOG).get_by_role("searchbox").fill("feinwe")
    page.locator(DIALOG).locator(".prose-tools-result").first.click()
    page.locator(DIALOG).locator(".prose-tools-offered").wait_for()
    assert axe_violations(page) == []


def test_in_the_arabic_editor_the_words_run_right_to_left_and_in_an_arabic_admin_the_whole_dialog(
    axe_page, live_server, role_groups
):
    page = axe_page
    glucagonoma_form_for_an_editor(page, live_server)
    field = "id_sections-1-body_ar"
    show(page, field)
    select_words(page, field, "البنكرياس")
    page.click(tool(field, "glossaryTerm"))
    dialog = page.locator(DIALOG)
    definition = dialog.get_by_role("textbox", name="Definition, in Arabic")
    assert definition.get_attribute("lang") == "ar"
    assert definition.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert dialog.locator(".prose-tools-words [lang=ar]").evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert dialog.evaluate("e => getComputedStyle(e).direction") == "ltr"  # the admin is in English
    page.keyboard.press("Escape")

    # The admin in Arabic: the dialog reads right to left, in Arabic words where there are some.
    page.context.add_cookies([{"name": "django_language", "value": "ar", "url": live_server.url}])
    page.goto(f"{live_server.url}/admin/pages/page/{Page.objects.get(path=GLUCAGONOMA).pk}/change/")
    show(page, field)
    select_words(page, field, "البنكرياس")
    page.keyboard.press("Control+k")
    dialog.get_by_role("searchbox").fill("الغلوكاغوني")
    dialog.locator(".prose-tools-result").first.wait_for()
    assert dialog.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert dialog.locator(".prose-tools-address").first.evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert axe_violations(page) == []
