"""The section editor's link and glossary-term dialogs ask the server (pages.picker): who may
ask, what they get, what it costs, and a clear refusal of what cannot be answered."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from pages import picker
from pages.models import Page
from review import roles
from tests.factories import PageFactory, SectionFactory, UserFactory, edited, publish_fixture

pytestmark = pytest.mark.django_db

PAGES = reverse("picker-pages")
TERMS = reverse("picker-terms")
STRINGS = reverse("picker-strings")
ENDPOINTS = [PAGES, TERMS, STRINGS]

# Besides the answer's own: the session, the user, and the user's permissions (user's, group's).
SIGN_IN_QUERIES = 4
PAGES_QUERIES = SIGN_IN_QUERIES + 2  # the pages found, then which of them are live
TERMS_QUERIES = SIGN_IN_QUERIES + 1  # the newest live versions' terms


@pytest.fixture
def editor(client):
    user = UserFactory(username="eleri", roles=[roles.EDITOR])
    client.force_login(user)
    return user


def glucagonoma(**overrides) -> Page:
    fields = {
        "slug": "glucagonoma",
        "title_en": "Glucagonoma",
        "title_cy": "Glwcagonoma",
        "title_ar": "الورم الغلوكاغوني",
    }
    return PageFactory(**(fields | overrides))


def found(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [page["title"] for page in response.json()["pages"]]


# Who may ask


@pytest.mark.parametrize("url", ENDPOINTS)
def test_someone_not_signed_in_is_sent_to_sign_in(client, url):
    response = client.get(url, {"q": "gluc"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("url", ENDPOINTS)
def test_a_signed_in_person_who_is_not_staff_is_sent_to_sign_in(client, url):
    client.force_login(UserFactory(is_staff=False, roles=[roles.EDITOR]))
    response = client.get(url, {"q": "gluc"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("url", ENDPOINTS)
def test_staff_who_may_not_view_pages_are_refused_a_get(client, url):
    glucagonoma()
    client.force_login(UserFactory(username="no-rights"))
    response = client.get(url, {"q": "gluc"})
    assert response.status_code == 403
    assert response.json() == {"error": "You may not look up pages."}


def test_staff_with_the_view_permission_alone_may_search(client):
    glucagonoma()
    user = UserFactory(username="viewer")
    user.user_permissions.add(Permission.objects.get(codename="view_page", content_type__app_label="pages"))
    client.force_login(user)
    assert found(client.get(PAGES, {"q": "gluc"})) == ["Glucagonoma"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_nothing_but_a_get_is_answered(client, editor, url):
    assert client.post(url, {"q": "gluc"}).status_code == 405


# Pages


@pytest.mark.parametrize("words", ["gluc", "GLWCAG", "الغلوكاغوني", "agonom"])
def test_a_page_is_found_by_its_title_in_any_language(client, editor, words):
    glucagonoma()
    PageFactory(slug="insulinoma", title_en="Insulinoma", title_cy="Inswlinoma")
    assert found(client.get(PAGES, {"q": words, "lang": "cy"})) == ["Glucagonoma"]


def test_each_page_says_no_more_than_its_id_titles_address_and_whether_it_is_live(client, editor):
    with edited():
        hub = PageFactory(slug="nets", title_en="NETs")
        page = glucagonoma(parent=hub, summary_en="A secret summary.")
        SectionFactory(page=page, heading_en="What it is", body_en="<p>Unpublished words.</p>")
    answer = client.get(PAGES, {"q": "glucagonoma", "lang": "cy"}).json()
    assert answer == {
        "pages": [
            {
                "id": page.pk,
                "title": "Glucagonoma",
                "title_language": "en",
                "titles": {"en": "Glucagonoma", "cy": "Glwcagonoma", "ar": "الورم الغلوكاغوني"},
                "address": "/cy/nets/glucagonoma/",
                "is_live": False,
            }
        ],
        "more": False,
        "shown_in": "en",
    }


def test_titles_are_shown_in_the_admins_language_or_else_the_source_languages(client, editor):
    glucagonoma()
    PageFactory(slug="insulinoma", title_en="Glucagon and insulin")
    client.cookies["django_language"] = "cy"
    pages = client.get(PAGES, {"q": "gluc"}).json()
    assert pages["shown_in"] == "cy"
    assert [(p["title"], p["title_language"]) for p in pages["pages"]] == [
        ("Glucagon and insulin", "en"),  # no Welsh title: the English one, marked as such
        ("Glwcagonoma", "cy"),
    ]


def test_whether_each_page_is_live(client, editor):
    live = glucagonoma()
    SectionFactory(page=live, heading_en="What it is", body_en="<p>Words.</p>")
    publish_fixture(live, "en")
    PageFactory(slug="glucagon-tests", title_en="Glucagon tests")
    pages = client.get(PAGES, {"q": "glucagon"}).json()["pages"]
    assert {p["title"]: p["is_live"] for p in pages} == {"Glucagonoma": True, "Glucagon tests": False}


def test_exact_titles_come_first_then_titles_that_begin_so(client, editor):
    PageFactory(slug="a", title_en="About glucagon")
    PageFactory(slug="b", title_en="Glucagon tests")
    PageFactory(slug="c", title_en="Glucagon")
    PageFactory(slug="d", title_en="A note", title_cy="Glucagon")
    assert found(client.get(PAGES, {"q": "glucagon"})) == ["A note", "Glucagon", "Glucagon tests", "About glucagon"]


def test_every_word_must_be_in_a_title_or_the_address(client, editor):
    PageFactory(slug="blood-sugar", title_en="Low blood sugar", title_cy="Siwgr gwaed isel")
    PageFactory(slug="blood-tests", title_en="Blood tests")
    assert found(client.get(PAGES, {"q": "blood isel"})) == ["Low blood sugar"]
    assert found(client.get(PAGES, {"q": "sugar blood"})) == ["Low blood sugar"]


@pytest.mark.parametrize(
    "address",
    [
        "/cy/nets/glucagonoma/",
        "http://testserver/en/nets/glucagonoma/",
        "https://www.example.org/ar/nets/glucagonoma",
        "/nets/glucagonoma/",
    ],
)
def test_a_page_is_found_by_its_address_pasted_or_typed(client, editor, address):
    with edited():
        hub = PageFactory(slug="nets", title_en="NETs")
        glucagonoma(parent=hub)
        PageFactory(slug="glucagonoma-in-children", parent=hub, title_en="In children")
    assert found(client.get(PAGES, {"q": address})) == ["Glucagonoma", "In children"]


def test_a_link_already_made_is_found_by_its_reference(client, editor):
    page = glucagonoma()
    assert found(client.get(PAGES, {"q": f"page:{page.pk}"})) == ["Glucagonoma"]
    assert found(client.get(PAGES, {"q": f"page:{page.pk + 1000}"})) == []


def test_at_most_twenty_pages_are_given_and_the_answer_says_there_are_more(client, editor):
    for n in range(picker.PAGE_RESULTS + 1):
        PageFactory(slug=f"topic-{n}", title_en=f"Topic {n:02d}")
    answer = client.get(PAGES, {"q": "topic"}).json()
    assert len(answer["pages"]) == picker.PAGE_RESULTS and answer["more"] is True
    assert answer["pages"][0]["title"] == "Topic 00"


def test_nothing_typed_finds_nothing(client, editor):
    glucagonoma()
    assert client.get(PAGES, {"q": "  "}).json() == {"pages": [], "more": False, "shown_in": "en"}


@pytest.mark.parametrize("count", [3, 30])
def test_a_page_search_costs_the_same_queries_however_many_pages_match(
    client, editor, django_assert_num_queries, count
):
    for n in range(count):
        page = PageFactory(slug=f"topic-{n}", title_en=f"Topic {n}", title_cy=f"Pwnc {n}")
        if n % 3 == 0:
            SectionFactory(page=page, heading_en="About", body_en="<p>Words.</p>")
            publish_fixture(page, "en")
    with django_assert_num_queries(PAGES_QUERIES):
        assert len(found(client.get(PAGES, {"q": "pwnc", "lang": "cy"}))) == min(count, picker.PAGE_RESULTS)


# Glossary terms


def welsh_page(slug: str, *sections: tuple[str, str], publish=("en", "cy")) -> Page:
    """A page with each (English, Welsh) body as a section, live in ``publish``."""
    with edited():
        page = PageFactory(slug=slug, title_en=slug.title(), title_cy=f"{slug.title()} (cy)")
        for number, (english, welsh) in enumerate(sections):
            SectionFactory(
                page=page,
                position=number,
                heading_en=f"Heading {number}",
                heading_cy=f"Pennawd {number}" if welsh else "",
                body_en=english,
                body_cy=welsh,
            )
    if publish:
        publish_fixture(page, *publish)
    return page


def term(name, definition, words):
    return f'<a href="term:{name}" title="{definition}">{words}</a>'


BIOPSY_EN = term("biopsy", "Taking a small sample of tissue.", "biopsy")
BIOPSY_CY = term("biopsy", "Tynnu sampl bach o feinwe.", "biopsi")


def test_the_terms_of_live_welsh_pages_are_offered_with_their_welsh_definitions(client, editor):
    welsh_page("one", (f"<p>A {BIOPSY_EN}.</p>", f"<p>Un {BIOPSY_CY}.</p>"))
    welsh_page("two", (f"<p>A {BIOPSY_EN}.</p>", f"<p>Dau {BIOPSY_CY}.</p>"))
    other = term("biopsy", "Tynnu darn o feinwe i&#39;w archwilio.", "biopsi")
    welsh_page("three", (f"<p>A {BIOPSY_EN}.</p>", f"<p>Tri {other}.</p>"))
    answer = client.get(TERMS, {"lang": "cy", "q": "biop"}).json()
    assert answer == {
        "language": "cy",
        "terms": [
            {
                "name": "biopsy",
                "definitions": [
                    {"text": "Tynnu sampl bach o feinwe.", "uses": 2},
                    {"text": "Tynnu darn o feinwe i'w archwilio.", "uses": 1},
                ],
                "words": ["biopsi"],
                "uses": 3,
            }
        ],
    }


@pytest.mark.parametrize("words", ["biopsy", "BIOPSI", "sampl bach", "feinwe"])
def test_a_term_is_found_by_its_name_its_words_or_its_definition(client, editor, words):
    glucagon = term("glucagon", "Hormon sy'n codi lefel y siwgr.", "glwcagon")
    welsh_page("one", (f"<p>A {BIOPSY_EN}.</p>", f"<p>Un {BIOPSY_CY} a {glucagon}.</p>"))
    assert [t["name"] for t in client.get(TERMS, {"lang": "cy", "q": words}).json()["terms"]] == ["biopsy"]


def test_with_nothing_typed_the_most_used_terms_come_first(client, editor):
    glucagon = term("glucagon", "Hormon.", "glwcagon")
    welsh_page("one", ("<p>A.</p>", f"<p>Un {BIOPSY_CY} a {glucagon}.</p>"))
    welsh_page("two", ("<p>B.</p>", f"<p>Dau {glucagon}.</p>"))
    assert [t["name"] for t in client.get(TERMS, {"lang": "cy"}).json()["terms"]] == ["glucagon", "biopsy"]


def test_only_terms_in_the_fields_language_are_offered(client, editor):
    # The second section has no Welsh: the Welsh page shows it in English, terms and all.
    hormone = term("hormone", "A messenger.", "hormone")
    welsh_page("one", ("<p>A.</p>", f"<p>Un {BIOPSY_CY}.</p>"), (f"<p>{hormone}</p>", ""))
    assert [t["name"] for t in client.get(TERMS, {"lang": "cy"}).json()["terms"]] == ["biopsy"]
    english = client.get(TERMS, {"lang": "en"}).json()["terms"]
    assert [(t["name"], t["definitions"][0]["text"]) for t in english] == [("hormone", "A messenger.")]


def test_terms_of_wording_not_live_are_not_offered(client, editor):
    welsh_page("draft", ("<p>A.</p>", f"<p>Un {BIOPSY_CY}.</p>"), publish=())
    welsh_page("english-only", ("<p>A.</p>", f"<p>Un {BIOPSY_CY}.</p>"), publish=("en",))
    assert client.get(TERMS, {"lang": "cy"}).json()["terms"] == []


def test_a_term_given_two_definitions_on_one_page_is_one_term(client, editor):
    again = term("biopsy", "Ail ddiffiniad.", "biopsi")
    welsh_page("one", ("<p>A.</p>", f"<p>Un {BIOPSY_CY}.</p>"), ("<p>B.</p>", f"<p>Dau {again}.</p>"))
    [found_term] = client.get(TERMS, {"lang": "cy"}).json()["terms"]
    assert found_term["name"] == "biopsy"
    assert [d["text"] for d in found_term["definitions"]] == ["Tynnu sampl bach o feinwe.", "Ail ddiffiniad."]


def test_a_term_whose_name_ends_in_a_number_keeps_it(client, editor):
    welsh_page("one", ("<p>A.</p>", f"<p>{term('men-1', 'Cyflwr etifeddol.', 'MEN1')}</p>"))
    assert [t["name"] for t in client.get(TERMS, {"lang": "cy"}).json()["terms"]] == ["men-1"]


def test_terms_come_from_the_newest_live_versions_only(client, editor, monkeypatch):
    welsh_page("old", ("<p>A.</p>", f"<p>{term('old-word', 'Hen air.', 'hen')}</p>"))
    welsh_page("new", ("<p>A.</p>", f"<p>{term('new-word', 'Gair newydd.', 'newydd')}</p>"))
    monkeypatch.setattr(picker, "TERM_SOURCES", 1)
    assert [t["name"] for t in client.get(TERMS, {"lang": "cy"}).json()["terms"]] == ["new-word"]


@pytest.mark.parametrize("count", [2, 12])
def test_a_term_search_costs_the_same_queries_however_many_pages_are_live(
    client, editor, django_assert_num_queries, count
):
    for n in range(count):
        welsh_page(f"page-{n}", ("<p>A.</p>", f"<p>{term(f'word-{n}', f'Diffiniad {n}.', f'gair {n}')}</p>"))
    with django_assert_num_queries(TERMS_QUERIES):
        answer = client.get(TERMS, {"lang": "cy", "q": "gair"}).json()
    assert len(answer["terms"]) == count


# Refusals


@pytest.mark.parametrize("url", [PAGES, TERMS])
def test_a_nul_character_is_refused_clearly(client, editor, url):
    response = client.get(url, {"q": "gluc\x00agon"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize("url", [PAGES, TERMS])
def test_a_search_too_long_is_refused_clearly(client, editor, url):
    response = client.get(url, {"q": "g" * 10_000})
    assert response.status_code == 400
    assert response.json() == {"error": "Search with at most 600 characters; this search has 10000."}


@pytest.mark.parametrize("url", [PAGES, TERMS])
def test_an_unknown_language_is_refused_clearly(client, editor, url):
    response = client.get(url, {"q": "gluc", "lang": "xx"})
    assert response.status_code == 400
    assert response.json() == {"error": "Unknown language xx: this site has en, cy, ar."}


# The dialogs' words


def test_the_dialogs_words_come_in_the_admins_language_with_each_languages_direction(client, editor):
    client.cookies["django_language"] = "cy"
    answer = client.get(STRINGS).json()
    assert set(answer["strings"]) == set(picker.dialog_strings())
    assert all(answer["strings"].values())
    assert answer["languages"] == {
        "en": {"name": "Saesneg", "dir": "ltr"},
        "cy": {"name": "Cymraeg", "dir": "ltr"},
        "ar": {"name": "Arabeg", "dir": "rtl"},
    }


def test_the_section_editor_has_both_tools_and_says_how_to_use_them(client, editor):
    page = glucagonoma()
    SectionFactory(page=page, heading_en="What it is", body_en="<p>Words.</p>")
    html = client.get(reverse("admin:pages_page_change", args=[page.pk])).content.decode()
    assert "SiteLink" in html and "GlossaryTerm" in html and "/static/js/prose-tools.js" in html
    assert PAGES in html and TERMS in html and STRINGS in html
    assert "/static/css/editor-tools.css" in html
    assert "press the link button" in html and "Glossary term" in html


@pytest.mark.parametrize("query", ["http://[x", "https://[::1/en/a/"])
def test_an_address_that_cannot_be_read_is_searched_as_words_not_a_crash(client, editor, query):
    response = client.get(PAGES, {"q": query, "lang": "en"})
    assert response.status_code == 200 and response.json()["pages"] == []


def test_a_search_looks_for_at_most_ten_words(client, editor):
    PageFactory(slug="glucagonoma", title_en="Glucagonoma")
    words = " ".join(["glucagonoma"] * 10 + [f"x{number}" for number in range(300)])
    response = client.get(PAGES, {"q": words[:590], "lang": "en"})
    assert response.status_code == 200 and [page["title"] for page in response.json()["pages"]] == ["Glucagonoma"]
