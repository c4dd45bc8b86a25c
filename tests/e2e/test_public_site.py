"""The public site as its readers meet it, in a real browser: no accessibility
violations (axe-core, WCAG 2.2 AA), usable by keyboard alone, and Arabic laid out
right to left."""

import io
import itertools
import json
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tests.public_pages import ENGLISH_ONLY, GLUCAGONOMA, PAGES

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=connection.vendor == "postgresql")


@pytest.fixture
def demo_site(live_server, role_groups):
    call_command("load_demo_content", stdout=io.StringIO())
    return live_server.url


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA)
    assert len(result["passes"]) > 10, "axe-core checked next to nothing"
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(json.dumps(node["target"]) for node in violation["nodes"][:3])
        for violation in result["violations"]
    ]


def test_no_accessibility_violations_at_wcag_22_aa(browser, demo_site):
    if not AXE.exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"No {AXE}: run npm ci in tests/e2e (make does).")
        pytest.skip("axe-core is not installed: npm ci --prefix tests/e2e")
    # The test's own script goes in past the Content-Security-Policy; the site's pages do not need it.
    context = browser.new_context(bypass_csp=True)
    found = {}
    for name, path in PAGES.items():
        page = context.new_page()
        page.goto(f"{demo_site}{path}")
        if violations := axe_violations(page):
            found[name] = violations
        page.close()
    context.close()
    assert found == {}


def test_keyboard_alone_reaches_the_content_with_focus_always_visible(page, demo_site):
    page.goto(f"{demo_site}/en/{GLUCAGONOMA}/")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.className")
    assert focused == "skip-link"
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    # Every link and control shows where the focus is.
    for _ in range(12):
        page.keyboard.press("Tab")
        style = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; }"
        )
        assert style[0] != "none" and style[1] != "0px", page.evaluate("() => document.activeElement.outerHTML")


def test_the_table_of_contents_and_language_switcher_are_real_links(page, demo_site):
    page.goto(f"{demo_site}/cy/{GLUCAGONOMA}/")
    contents = page.locator("nav.toc a")
    assert contents.count() >= 5
    for index in range(contents.count()):
        target = contents.nth(index).get_attribute("href")
        assert target.startswith("#") and page.locator(target).count() == 1, target
    languages = page.locator("nav.languages a")
    assert {languages.nth(i).get_attribute("hreflang") for i in range(languages.count())} == {"en", "cy", "ar"}
    with page.expect_navigation():
        page.click('nav.languages a[hreflang="en"]')
    assert page.url.endswith(f"/en/{GLUCAGONOMA}/")
    assert page.locator("img:not([alt])").count() == 0


def test_arabic_is_laid_out_right_to_left(page, demo_site, tmp_path):
    boxes = {}
    for language in ("en", "ar"):
        page.goto(f"{demo_site}/{language}/{GLUCAGONOMA}/")
        page.screenshot(path=tmp_path / f"{language}.png", full_page=False)
        boxes[language] = {part: page.locator(selector).bounding_box() for part, selector in
                           (("toc", "nav.toc"), ("body", ".layout > .body"), ("h1", "article h1"))}  # fmt: skip
    assert page.evaluate("() => document.documentElement.dir") == "rtl"
    # English: contents on the left of the text; Arabic: mirrored, on the right.
    assert boxes["en"]["toc"]["x"] < boxes["en"]["body"]["x"]
    assert boxes["ar"]["toc"]["x"] > boxes["ar"]["body"]["x"]
    # The Arabic heading starts at the right edge of its column.
    ar_h1, ar_body = boxes["ar"]["h1"], boxes["ar"]["body"]
    assert ar_h1["x"] + ar_h1["width"] >= ar_body["x"] + ar_body["width"] - 1


def test_on_a_phone_the_contents_are_a_line_to_open_and_the_text_starts_on_the_first_screen(
    browser, demo_site, tmp_path
):
    # Without JavaScript, as some readers have it: the contents open and close all the same.
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    for language in ("en", "cy", "ar"):
        page.goto(f"{demo_site}/{language}/{GLUCAGONOMA}/")
        page.screenshot(path=tmp_path / f"phone-{language}.png")
        heading = page.locator(".layout > .body section h2").first.bounding_box()
        assert heading["y"] + heading["height"] <= 844, (language, heading)
        assert page.locator("nav.toc summary h2").is_visible()
        assert not page.locator("nav.toc ol").is_visible()
    page.click("nav.toc summary")
    contents = page.locator("nav.toc ol a")
    assert contents.nth(0).is_visible() and contents.count() >= 10
    target = contents.nth(3).get_attribute("href")
    contents.nth(3).click()
    assert page.url.endswith(target) and page.locator(target).is_visible()
    page.click("nav.toc summary")
    assert not contents.nth(0).is_visible()
    context.close()


def test_on_a_wide_screen_the_contents_are_open_beside_the_text(page, demo_site):
    for language in ("en", "ar"):
        page.goto(f"{demo_site}/{language}/{GLUCAGONOMA}/")
        contents = page.locator("nav.toc ol a")
        assert contents.count() >= 10
        assert all(contents.nth(index).is_visible() for index in range(contents.count()))
        body = page.locator(".layout > .body").bounding_box()
        assert page.locator("nav.toc").bounding_box()["y"] < body["y"] + body["height"]  # beside, not above it
    for _ in range(2):  # opened or closed from the keyboard, still shown
        page.focus("nav.toc summary")
        page.keyboard.press("Enter")
        assert contents.nth(0).is_visible()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_glossary_term_says_what_it_means_and_its_entry_leads_back_to_the_text(page, demo_site, language):
    from playwright.sync_api import expect

    page.goto(f"{demo_site}/{language}/{GLUCAGONOMA}/")
    term = page.locator(".layout > .body section a.term").nth(1)
    entry = term.get_attribute("href")
    definition = page.locator(f"{entry} + dd > span").inner_text()
    expect(term).to_have_accessible_description(definition)
    term.click()
    assert page.url.endswith(entry)
    expect(term).not_to_be_in_viewport()
    back = page.locator(f"{entry} + dd > a.back")
    expect(back).to_have_accessible_description(page.locator(entry).inner_text())
    back.click()
    expect(term).to_be_in_viewport()


# Where an element's text is, without what CSS draws before or after it.
WORDS_BOX = """element => {
    const range = document.createRange();
    range.selectNodeContents(element);
    const box = range.getBoundingClientRect();
    return {x: box.x, width: box.width};
}"""


@pytest.mark.parametrize("path", [ENGLISH_ONLY, GLUCAGONOMA])
def test_breadcrumbs_run_right_to_left_in_arabic_with_english_titles_kept_whole(page, demo_site, tmp_path, path):
    page.goto(f"{demo_site}/ar/{path}/")
    page.locator("nav.breadcrumbs").screenshot(path=tmp_path / "breadcrumbs-ar.png")
    crumbs = page.locator("nav.breadcrumbs li")
    boxes = [crumbs.nth(index).bounding_box() for index in range(crumbs.count())]
    assert len(boxes) >= 3 and len({box["y"] for box in boxes}) == 1  # one line, at this width
    for before, after in itertools.pairwise(boxes):
        assert after["x"] + after["width"] <= before["x"] + 1  # Home at the right, each next crumb to its left
    for index in range(1, len(boxes)):
        # Its separator before it in reading order: on its right, between it and the crumb before.
        words = crumbs.nth(index).evaluate(WORDS_BOX)
        assert abs(words["x"] - boxes[index]["x"]) <= 1, index
        assert words["x"] + words["width"] < boxes[index]["x"] + boxes[index]["width"] - 8, index
    last = crumbs.nth(len(boxes) - 1)
    assert last.evaluate("item => getComputedStyle(item).direction") == "rtl"


def test_a_page_prints_with_its_review_dates_and_address_and_without_navigation(page, demo_site):
    page.goto(f"{demo_site}/cy/{GLUCAGONOMA}/")
    page.emulate_media(media="print")
    assert page.locator(".review-dates").is_visible()
    assert page.locator(".print-address").is_visible()
    assert f"/cy/{GLUCAGONOMA}/" in page.inner_text(".print-address")
    for navigation in ("nav.toc", "nav.languages", ".site-search", "nav.breadcrumbs"):
        assert not page.locator(navigation).is_visible(), navigation
    page.emulate_media(media="screen")
    assert not page.locator(".print-address").is_visible() and page.locator("nav.toc").is_visible()


def test_search_pages_and_the_too_many_searches_page_have_no_accessibility_violations(
    browser, demo_site, settings, monkeypatch
):
    """Results over several pages (one a page here, so that the demo pages fill three) in
    English and Welsh, results in Arabic right to left, and the page a visitor gets after too
    many searches."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci --prefix tests/e2e")
    from pages import search

    monkeypatch.setattr(search, "PER_PAGE", 1)
    settings.SEARCH_RATE_LIMIT = 0
    context = browser.new_context(bypass_csp=True)
    found = {}
    for language, query, paged in (("en", "tumour", True), ("cy", "pancreas", True), ("ar", "ورم", False)):
        page = context.new_page()
        page.goto(f"{demo_site}/{language}/search/?q={query}&page={2 if paged else 1}")
        assert page.locator("main li a[rel]").count() == (2 if paged else 0)
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        if violations := axe_violations(page):
            found[f"search, {language}"] = violations
        page.close()
    settings.SEARCH_RATE_LIMIT = 1
    page = context.new_page()
    page.goto(f"{demo_site}/ar/search/?q=ورم")
    response = page.goto(f"{demo_site}/ar/search/?q=glucagon")
    assert response.status == 429
    if violations := axe_violations(page):
        found["too many searches, ar"] = violations
    context.close()
    assert found == {}
