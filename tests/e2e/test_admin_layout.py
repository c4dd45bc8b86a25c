"""The admin's long lists at a laptop's width (1280 px, the side menu open), in a real
browser: the page list and the sign-off ledger read without scrolling sideways, no column
cut off or squeezed to a word a line, with long titles, addresses and names, in English and
in Arabic; and every filter is a target of at least 24 by 24 px (WCAG 2.2, 2.5.8).

Screenshots go to $SCREENSHOTS, or a temporary folder, to look at."""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from pages import history
from pages.models import Page
from review import roles, services
from tests.e2e.test_admin_editor import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")

LONG_TITLE = (
    "Multiple endocrine neoplasia type 1 (MEN1) and the neuroendocrine tumours of the pancreas, "
    "duodenum and pituitary gland: what it means for you and your family"
)
LONG_TITLE_AR = (
    "الورم الصماوي المتعدد من النوع الأول وأورام البنكرياس والاثني عشر والغدة النخامية: ماذا يعني لك ولعائلتك"
)
LONG_SLUG = "multiple-endocrine-neoplasia-type-1-and-neuroendocrine-tumours-of-the-pancreas"
SCREENS = {"page list": "/admin/pages/page/", "sign-off ledger": "/admin/review/reviewrequest/"}

# The page and the table are no wider than the window, each cell's content fits inside it,
# and no cell of several words shows them a word a line (the lines its words take, counted
# from where the browser laid them out).
MEASURE = """() => {
  const page = document.scrollingElement;
  const results = document.querySelector("#changelist-form .results");
  const cells = [...document.querySelectorAll("#result_list td, #result_list th")];
  function aWordALine(cell) {  // every word of the cell (or part of a hyphenated one) on a line of its own
    const tops = new Set();
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    while (walker.nextNode()) {
      range.selectNodeContents(walker.currentNode);
      for (const box of range.getClientRects()) if (box.width > 0) tops.add(Math.round(box.top / 2));
    }
    const words = cell.innerText.split(/[\\s/-]+/).filter(Boolean).length;
    return words >= 3 && tops.size >= words;
  }
  return {
    page: [page.scrollWidth, page.clientWidth],
    table: [results.scrollWidth, results.clientWidth],
    overflowing: cells.filter(cell => cell.scrollWidth > cell.clientWidth + 1).map(cell => cell.className),
    wordALine: cells.filter(aWordALine).map(cell => `${cell.className}: ${cell.innerText}`),
    first: document.querySelector("#result_list tbody tr:first-child > th").getBoundingClientRect().width,
    smallTargets: [...document.querySelectorAll("#changelist-filter a, #changelist-filter summary")]
      .map(target => [target.textContent.trim(), target.getBoundingClientRect()])
      .filter(([, box]) => box.width < 24 || box.height < 24).map(([text]) => text),
  };
}"""


@pytest.fixture
def long_content(role_groups):
    """The demo content, a page with a long title and address signed off and published by people
    with long names and a long comment, and someone who may see both lists."""
    call_command("load_demo_content", stdout=io.StringIO())
    editor = UserFactory(
        username="gwenllian", first_name="Gwenllian Angharad", last_name="Rhys-Llewellyn", roles=[roles.EDITOR]
    )
    reviewer = UserFactory(
        username="rhys", first_name="Dr Rhodri Emrys", last_name="Vaughan-Pritchard", roles=[roles.CLINICAL_REVIEWER]
    )
    publisher = UserFactory(
        username="parisa", first_name="Parisa", last_name="Montgomery-Whitfield", roles=[roles.PUBLISHER]
    )
    parent = Page.objects.get(path="neuroendocrine-cancer/pancreatic-neuroendocrine-tumours")
    with history.revision(user=editor, comment="A page with a long title."):
        page = Page.objects.create(
            parent=parent, slug=LONG_SLUG, title_en=LONG_TITLE, title_ar=LONG_TITLE_AR, owner=editor
        )
    (request,) = services.submit(page=page, languages=["en"], user=editor, comment="Please check.")
    services.approve(
        request=request,
        user=reviewer,
        comment="Checked against the 2024 guideline; the section on genetic testing now matches what clinics offer.",
    )
    request.refresh_from_db()
    services.publish(request=request, user=publisher)
    UserFactory(username="lowri", first_name="Dr Lowri", last_name="Lead", roles=list(roles.ALL))


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_page_list_and_the_ledger_read_at_1280_px_without_scrolling_sideways(
    browser, live_server, long_content, language, tmp_path
):
    folder = Path(os.environ.get("SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=language)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, "lowri")
    found = {}
    for name, path in SCREENS.items():
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.lang") == language
        assert page.locator("#nav-sidebar").is_visible()  # the side menu open, as it is at first
        page.screenshot(path=folder / f"{name.replace(' ', '-')}-{language}.png", full_page=True)
        found[name] = page.evaluate(MEASURE)
    context.close()

    for name, measured in found.items():
        assert measured["page"][0] <= measured["page"][1], (name, measured)
        assert measured["table"][0] <= measured["table"][1], (name, measured)  # no column cut off
        assert measured["overflowing"] == [], (name, measured)
        assert measured["wordALine"] == [], (name, measured)
        assert measured["first"] >= 140, (name, measured)  # the title, the address
        assert measured["smallTargets"] == [], (name, measured)
