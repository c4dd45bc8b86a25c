"""Every admin screen an editor, a clinical reviewer and a publisher use, in English, Welsh
and Arabic, in the light and the dark colour scheme: no accessibility violations (axe-core,
WCAG 2.2 AA), no description or label pointing at nothing, and the lists at a laptop's width
without scrolling sideways. The admin speaks the browser's language (LocaleMiddleware reads
its Accept-Language), so each person signs in once per language, in a browser window of that
locale, and that window goes on to every screen; the time the walk took is printed (-s)."""

import datetime
import io
import json
import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from pages import history
from pages.models import LiveSnapshot, Page
from review import roles, services
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
LANGUAGES = ("en", "cy", "ar")
GLUCAGONOMA = "neuroendocrine-cancer/pancreatic-neuroendocrine-tumours/glucagonoma"
PANCREATIC = "neuroendocrine-cancer/pancreatic-neuroendocrine-tumours"
TREATMENT = "neuroendocrine-cancer/treatment"
SURVIVAL = "neuroendocrine-cancer/survival"
LIVING_WITH = "neuroendocrine-cancer/living-with"
PASSWORD = "a-long-test-password"


def edit(page: Page, user, comment: str, **fields) -> None:
    with history.revision(user=user, comment=comment):
        for name, value in fields.items():
            setattr(page, name, value)
        page.save()


def edit_section(page: Page, user, comment: str, language: str, words: str) -> None:
    section = page.sections.order_by("position").last()
    with history.revision(user=user, comment=comment):
        body = getattr(section, f"body_{language}")
        setattr(section, f"body_{language}", body.removesuffix("</p>") + f" {words}</p>")
        section.save()


def build_walk_content() -> dict:
    """The demo content, and a page in each state a screen shows: one in review (with a
    change to read in its diff), one approved and waiting to be published, one live again
    after a change (with a history of several revisions), one sent back with changes
    requested, one deleted (to recover), and reviews overdue and falling due."""
    call_command("load_demo_content", stdout=io.StringIO())
    editor = UserFactory(username="eleri", first_name="Eleri", last_name="Jones", roles=[roles.EDITOR])
    reviewer = UserFactory(username="rhys", first_name="Rhys", last_name="Evans", roles=[roles.CLINICAL_REVIEWER])
    publisher = UserFactory(username="pat", first_name="Pat", last_name="Price", roles=[roles.PUBLISHER])
    pages = {path: Page.objects.get(path=path) for path in (GLUCAGONOMA, PANCREATIC, TREATMENT, SURVIVAL, LIVING_WITH)}
    for page in pages.values():
        page.owner = editor
        with history.revision(user=None, comment="Owned by Eleri"):
            page.save()

    # In review, in Welsh: a word added to a section.
    edit_section(pages[GLUCAGONOMA], editor, "Gair newydd.", "cy", "GAIRNEWYDD")
    (in_review,) = services.submit(page=pages[GLUCAGONOMA], languages=["cy"], user=editor, comment="Gwiriwch.")

    # Approved, not live yet.
    edit(pages[PANCREATIC], editor, "A clearer summary.", summary_en=pages[PANCREATIC].summary_en + " Read on.")
    (approved,) = services.submit(page=pages[PANCREATIC], languages=["en"], user=editor, comment="Please check.")
    services.approve(request=approved, user=reviewer, comment="Checked.")

    # Live again after two changes: a history to compare and revert.
    edit(pages[TREATMENT], editor, "A shorter title.", title_en="Treatment for neuroendocrine cancer")
    edit_section(pages[TREATMENT], editor, "A word more.", "en", "today")
    (republished,) = services.submit(page=pages[TREATMENT], languages=["en"], user=editor, comment="Updated.")
    services.approve(request=republished, user=reviewer, comment="Matches the guideline.")
    republished.refresh_from_db()
    services.publish(request=republished, user=publisher)

    # Sent back to its author.
    edit_section(pages[SURVIVAL], editor, "New figures.", "en", "NEWFIGURES")
    (sent_back,) = services.submit(page=pages[SURVIVAL], languages=["en"], user=editor, comment="New figures.")
    services.request_changes(request=sent_back, user=reviewer, comment="Give the source of the figures.")

    # Reviews overdue and falling due.
    today = timezone.localdate()
    LiveSnapshot.objects.filter(page=pages[LIVING_WITH], language="en").update(
        next_review_due=today - datetime.timedelta(days=5)
    )
    LiveSnapshot.objects.filter(page=pages[LIVING_WITH], language="cy").update(
        next_review_due=today + datetime.timedelta(days=20)
    )

    # Deleted, to be recovered.
    with history.revision(user=editor, comment="A page made by mistake."):
        mistake = Page.objects.create(slug="made-by-mistake", title_en="Made by mistake", owner=editor)
    with history.revision(user=editor, comment="Deleted: made by mistake."):
        mistake.delete()

    names = {GLUCAGONOMA: "glucagonoma", PANCREATIC: "pancreatic", TREATMENT: "treatment", SURVIVAL: "survival"}
    names[LIVING_WITH] = "living_with"
    return {"pages_by_name": {names[path]: page.pk for path, page in pages.items()}, "in_review": in_review.pk}


def go(path: str):
    """A screen reached by its address."""

    def visit(page, base: str, content: dict) -> None:
        response = page.goto(base + path.format(**content["pages_by_name"], **content))
        assert response.status in (200, 400, 403), (path, response.status)

    return visit


def go_unless_there(path: str):
    """A screen reached by its address, unless it is the one open already."""

    def visit(page, base: str, content: dict) -> None:
        if not page.url.endswith(path.format(**content["pages_by_name"], **content)):
            go(path)(page, base, content)

    return visit


def change_form_in(language: str):
    """The glucagonoma page's form, every field's tab showing ``language``."""

    def visit(page, base: str, content: dict) -> None:
        go_unless_there("/admin/pages/page/{glucagonoma}/change/")(page, base, content)
        # The menu of languages beside the title opens every field's tab in one language.
        page.wait_for_selector(f"#modeltranslation-main-switch option[data-code={language}]", state="attached")
        option = page.get_attribute(f"#modeltranslation-main-switch option[data-code={language}]", "value")
        page.select_option("#modeltranslation-main-switch", value=option)
        page.wait_for_function(
            "code => [...document.querySelectorAll('.ui-tabs-active a')].every(a => a.hash.endsWith('_' + code))",
            arg=language,
        )

    return visit


def form_with_errors(page, base: str, content: dict) -> None:
    """The glucagonoma page's form sent back: no comment on what changed."""
    go_unless_there("/admin/pages/page/{glucagonoma}/change/")(page, base, content)
    with page.expect_navigation():
        page.click("input[name=_continue]")
    page.wait_for_selector(".error-summary")


def changes_requested_without_a_comment(page, base: str, content: dict) -> None:
    """Changes asked for without a word: the comment is marked invalid and described by its
    error, and the focus is on the summary of what to correct, which leads to it."""
    go_unless_there("/admin/pages/page/{glucagonoma}/workflow/review/{in_review}/")(page, base, content)
    with page.expect_navigation():
        page.click("button[name=request_changes]")
    comment = page.locator("#id_comment")
    assert comment.get_attribute("aria-invalid") == "true"
    assert "id_comment_error" in comment.get_attribute("aria-describedby").split()
    assert page.locator("#id_comment_error").inner_text().strip()
    page.wait_for_function("document.activeElement.id === 'error-summary-title'")
    assert page.locator(".error-summary a[href='#id_comment']").count() == 1


def signed_out(page, base: str, content: dict) -> None:
    page.goto(f"{base}/admin/login/")


def wrong_password(page, base: str, content: dict) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "eleri")
    page.fill("#id_password", "not-the-password")
    with page.expect_navigation():
        page.click("input[type=submit]")
    page.wait_for_selector(".errornote")


SCREENS = {
    "eleri": {
        "inbox": go("/admin/"),
        "page list, filtered and searched": go("/admin/pages/page/?workflow=mine&q=gluc"),
        "page list": go("/admin/pages/page/"),
        "new page form": go("/admin/pages/page/add/"),
        "page form, English": change_form_in("en"),
        "page form, Welsh": change_form_in("cy"),
        "page form, Arabic": change_form_in("ar"),
        "page form with errors": form_with_errors,
        "history": go("/admin/pages/page/{treatment}/history/"),
        "compare": go("/admin/pages/page/{treatment}/history/compare/?old=1&new=3"),
        "revert": go("/admin/pages/page/{treatment}/history/1/revert/"),
        "recover deleted pages": go("/admin/pages/page/recover/"),
        "reviews due": go("/admin/pages/page/reviews-due/"),
        "workflow log": go("/admin/review/transition/"),
        "live versions": go("/admin/pages/livesnapshot/?language__exact=cy"),
        "not allowed (403)": go("/admin/pages/page/{glucagonoma}/workflow/withdraw/"),
    },
    "rhys": {
        "inbox": go("/admin/"),
        "read-only page": go("/admin/pages/page/{glucagonoma}/change/"),
        "review, with the diff": go("/admin/pages/page/{glucagonoma}/workflow/review/{in_review}/"),
        "review, changes requested without a comment": changes_requested_without_a_comment,
        "re-confirm": go("/admin/pages/page/{living_with}/workflow/reconfirm/en/"),
        "sign-off ledger": go("/admin/review/reviewrequest/?language=en"),
    },
    "pat": {
        "inbox": go("/admin/"),
        "withdraw": go("/admin/pages/page/{living_with}/workflow/withdraw/"),
        "move": go("/admin/pages/page/{living_with}/workflow/move/"),
        "sign-off ledger": go("/admin/review/reviewrequest/"),
        "live versions": go("/admin/pages/livesnapshot/"),
        "page form, approved, to publish": go("/admin/pages/page/{pancreatic}/change/"),
    },
    None: {"sign-in": signed_out, "sign-in, wrong password": wrong_password},
}


def in_scheme(page, scheme: str) -> None:
    """The screen in the ``scheme`` colour scheme, once the admin's colours have changed
    over (its links fade from one colour to the next)."""
    page.emulate_media(color_scheme=scheme)
    page.wait_for_function(
        "() => !document.getAnimations().some(a => a instanceof CSSTransition && a.playState === 'running')"
    )


def axe_findings(page) -> list[dict]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_22_AA
    )
    assert len(result["passes"]) > 10, "axe-core checked next to nothing"
    return result["violations"]


def describe(violations: list[dict]) -> list[str]:
    return [
        f"{violation['id']} ({len(violation['nodes'])}): {violation['help']} at "
        + "; ".join(json.dumps(node["target"]) for node in violation["nodes"][:3])
        for violation in violations
    ]


def signed_in(browser, base: str, username: str | None, language: str):
    # The test's own script (axe-core) goes in past the Content-Security-Policy; the admin does not need it.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=language, bypass_csp=True)
    context.add_init_script(path=str(AXE))  # on every screen, as it loads
    page = context.new_page()
    page.set_default_timeout(15_000)
    if username:
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("input[type=submit]")
    return context, page


def settled(page) -> None:
    """Once the screen's scripts have done their work: each rich-text editor made, with its
    toolbar (they come after the page has loaded), and the focus where they put it."""
    page.wait_for_load_state("load")
    page.wait_for_function(
        """() => [...document.querySelectorAll("textarea[data-django-prose-editor-configurable]")]
          .filter(area => !area.id.includes("__prefix__"))
          .every(area => area.closest(".prose-editor")?.querySelector(":scope > .prose-menubar"))"""
    )
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))")


# A list (of pages, sign-offs, workflow steps, live versions) at a laptop's width: no scrolling
# sideways, of the screen or of the table, and every filter a target of 24 by 24 px at least.
LIST_LAYOUT = """() => {
  const list = document.getElementById("changelist");
  if (!list) return [];
  const screen = document.scrollingElement;
  const results = list.querySelector(".results");
  const problems = [];
  for (const [what, box] of [["screen", screen], ["table", results]]) {
    if (box && box.scrollWidth > box.clientWidth) problems.push(`${what}: ${box.scrollWidth} > ${box.clientWidth} px`);
  }
  for (const target of list.querySelectorAll("#changelist-filter a, #changelist-filter summary")) {
    const {width, height} = target.getBoundingClientRect();
    if (width < 24 || height < 24) problems.push(`filter "${target.textContent.trim()}": ${width} x ${height} px`);
  }
  return problems;
}"""


# Every id an element points to for its name, description or what it controls is there: axe
# lets a description pass if any one of its ids is (the change comment's help had none).
DANGLING_REFERENCES = """() => {
  const problems = [];
  for (const attribute of ["aria-describedby", "aria-labelledby", "aria-controls", "aria-errormessage"]) {
    for (const element of document.querySelectorAll(`[${attribute}]`)) {
      for (const id of element.getAttribute(attribute).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) problems.push(`${attribute}="${id}" on ${element.outerHTML.slice(0, 80)}`);
      }
    }
  }
  for (const label of document.querySelectorAll("label[for]")) {
    if (!document.getElementById(label.htmlFor)) problems.push(`label for="${label.htmlFor}"`);
  }
  return problems;
}"""


def walk(browser, base: str, content: dict) -> tuple[dict, dict]:
    """Each screen of each person in each language, scanned in light and dark: what was found
    wrong, and the seconds each screen took."""
    found, seconds = {}, {}
    for username, screens in SCREENS.items():
        for language in LANGUAGES:
            context, page = signed_in(browser, base, username, language)
            for name, visit in screens.items():
                start = time.monotonic()
                visit(page, base, content)
                settled(page)
                assert page.evaluate("document.documentElement.lang") == language, name
                for check, script in (("layout", LIST_LAYOUT), ("references", DANGLING_REFERENCES)):
                    if problems := page.evaluate(script):
                        found[(username, language, name, check)] = [{"id": check, "help": problems, "nodes": []}]
                for scheme in ("light", "dark"):
                    in_scheme(page, scheme)
                    if violations := axe_findings(page):
                        found[(username, language, name, scheme)] = violations
                seconds[(username, language, name)] = time.monotonic() - start
            context.close()
    return found, seconds


def test_every_admin_screen_passes_axe_in_each_language_light_and_dark(browser, live_server, role_groups):
    if not AXE.exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"No {AXE}: run npm ci in tests/e2e (make does).")
        pytest.skip("axe-core is not installed: npm ci --prefix tests/e2e")
    content = build_walk_content()
    start = time.monotonic()
    found, seconds = walk(browser, live_server.url, content)
    took = time.monotonic() - start
    slowest = sorted(seconds.items(), key=lambda item: -item[1])[:5]
    print(f"\nThe walk: {len(seconds)} screens in {took:.0f} s; slowest: {slowest}")
    assert {" / ".join(filter(None, key)): describe(violations) for key, violations in found.items()} == {}
