"""Publishing builds live snapshots; the working copy never reaches the public."""

import datetime
import re

import pytest

from pages import moves, publishing
from pages.models import LiveSnapshot, Section
from pages.publishing import NotTranslated, PublishingError, UnknownLanguage
from tests.factories import PageFactory, SectionFactory, edited, publish_fixture

pytestmark = pytest.mark.django_db


def test_publishing_freezes_title_sections_and_review_dates():
    page = PageFactory(title_en="Glucagonoma", summary_en="Rare.")
    SectionFactory(page=page, position=1, heading_en="Symptoms", body_en="<p>Rash.</p>")
    SectionFactory(page=page, position=0, heading_en="What it is", body_en="<p>A NET.</p>")
    [snapshot] = publish_fixture(page, "en")
    assert snapshot.title == "Glucagonoma"
    assert [s["heading"] for s in snapshot.content["sections"]] == ["What it is", "Symptoms"]
    assert [s["anchor"] for s in snapshot.content["sections"]] == ["what-it-is", "symptoms"]
    assert snapshot.last_reviewed == datetime.date(2025, 3, 11)
    assert snapshot.next_review_due == datetime.date(2028, 3, 11)
    assert snapshot.signed_off_by == "Dr Test Reviewer"


def test_editing_the_working_copy_changes_nothing_live(client):
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma")
    section = SectionFactory(page=page, body_en="<p>Approved wording.</p>")
    publish_fixture(page, "en")
    with edited():
        page.title_en = "Unreviewed title"
        page.save()
        section.body_en = "<p>Unreviewed wording.</p>"
        section.save()
    SectionFactory(page=page, heading_en="Unreviewed section")

    response = client.get("/en/glucagonoma/")
    html = response.content.decode()
    assert "Approved wording." in html
    assert "Unreviewed" not in html


def test_untranslated_sections_show_signed_off_source_wording_marked_as_such():
    page = PageFactory(title_en="Glucagonoma", title_ar="ورم")
    SectionFactory(
        page=page, heading_en="Symptoms", heading_ar="الأعراض", body_en="<p>Rash.</p>", body_ar="<p>طفح.</p>"
    )
    SectionFactory(page=page, heading_en="Treatment", body_en="<p>Surgery.</p>")
    publish_fixture(page, "en")
    [snapshot] = publish_fixture(page, "ar")
    sections = snapshot.content["sections"]
    assert [(s["heading"], s["lang"]) for s in sections] == [("الأعراض", "ar"), ("Treatment", "en")]
    assert snapshot.content["has_untranslated_parts"] is True


def test_fallback_wording_is_the_signed_off_version_not_the_working_copy(client):
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", title_ar="ورم")
    section = SectionFactory(page=page, heading_en="Treatment", body_en="<p>Approved surgery text.</p>")
    publish_fixture(page, "en")
    section.body_en = "<p>Unreviewed English edit.</p>"
    with edited():
        section.save()

    publish_fixture(page, "ar")

    html = client.get("/ar/glucagonoma/").content.decode()
    assert "Approved surgery text." in html
    assert "Unreviewed" not in html


def test_untranslated_section_without_signed_off_source_wording_cannot_be_published():
    page = PageFactory(title_en="Glucagonoma", title_ar="ورم")
    SectionFactory(page=page, heading_en="Treatment", body_en="<p>Surgery.</p>")
    with pytest.raises(NotTranslated, match="no العربيّة text and no signed-off English text"):
        publish_fixture(page, "ar")
    publish_fixture(page, "en")
    SectionFactory(page=page, heading_en="New, never signed off", body_en="<p>New.</p>")
    with pytest.raises(NotTranslated, match="New, never signed off"):
        publish_fixture(page, "ar")
    assert not LiveSnapshot.objects.filter(language="ar").exists()


def test_a_body_written_around_validation_is_refused_at_publishing():
    page = PageFactory()
    section = SectionFactory(page=page, body_en="<p>ok</p>")
    Section.objects.filter(pk=section.pk).update(body_en="<p>10<b>9</b> cells</p>")
    with edited():  # the next revision records what the database holds
        page.save()
    with pytest.raises(PublishingError, match="markup the site would drop: the <b> element"):
        publish_fixture(page, "en")
    assert not LiveSnapshot.objects.exists()


def test_a_language_without_a_title_cannot_be_published():
    page = PageFactory(title_en="Glucagonoma")
    with pytest.raises(NotTranslated):
        publish_fixture(page, "cy")
    assert not LiveSnapshot.objects.exists()


def test_an_unknown_language_is_refused():
    page = PageFactory()
    with pytest.raises(UnknownLanguage):
        publishing.publish(
            page=page,
            language="xx",
            wording={},
            revision=None,
            last_reviewed=datetime.date(2026, 1, 1),
            next_review_due=datetime.date(2027, 1, 1),
            signed_off_by="Dr Test Reviewer",
        )
    assert not LiveSnapshot.objects.exists()


def test_links_to_a_page_follow_it_when_it_moves():
    parent = PageFactory(slug="nets")
    target = PageFactory(slug="tests", parent=parent, title_en="Tests")
    publish_fixture(target, "en")
    page = PageFactory(slug="glucagonoma")
    SectionFactory(page=page, body_en=f'<p>Read about <a href="page:{target.pk}">tests</a>.</p>')
    publish_fixture(page, "en")

    with edited():
        moves.move_page(page=target, parent=parent, slug="tests-to-diagnose", position=0)

    snapshot = LiveSnapshot.objects.get(page=page, language="en")
    assert '<a href="/en/nets/tests-to-diagnose/">tests</a>' in snapshot.content["sections"][0]["html"]
    assert LiveSnapshot.objects.get(page=target).path == "nets/tests-to-diagnose"


def test_link_to_a_page_not_yet_live_is_plain_text_until_it_goes_live():
    target = PageFactory(slug="tests")
    page = PageFactory(slug="glucagonoma")
    SectionFactory(page=page, body_en=f'<p>Read about <a href="page:{target.pk}">tests</a>.</p>')
    [snapshot] = publish_fixture(page, "en")
    assert snapshot.content["sections"][0]["html"] == "<p>Read about tests.</p>"

    publish_fixture(target, "en")
    snapshot.refresh_from_db()
    assert snapshot.content["sections"][0]["html"] == '<p>Read about <a href="/en/tests/">tests</a>.</p>'


def test_breadcrumbs_and_children_use_live_titles_only():
    parent = PageFactory(slug="nets", title_en="NETs")
    child = PageFactory(slug="glucagonoma", parent=parent, title_en="Glucagonoma")
    PageFactory(slug="draft", parent=parent, title_en="Draft child")
    publish_fixture(parent, "en")
    [child_snapshot] = publish_fixture(child, "en")
    parent_snapshot = LiveSnapshot.objects.get(page=parent)
    assert child_snapshot.content["breadcrumbs"] == [{"title": "NETs", "lang": "en", "url": "/en/nets/"}]
    assert parent_snapshot.content["children"] == [
        {"title": "Glucagonoma", "lang": "en", "url": "/en/nets/glucagonoma/"}
    ]


def test_every_snapshot_knows_the_languages_the_page_is_live_in():
    page = PageFactory(title_en="Glucagonoma", title_cy="Glwcagonoma", title_ar="ورم")
    [arabic] = publish_fixture(page, "ar")
    assert arabic.languages == ["ar"]
    publish_fixture(page, "en", "cy")
    assert {s.language: s.languages for s in LiveSnapshot.objects.filter(page=page)} == {
        "en": ["en", "cy", "ar"],
        "cy": ["en", "cy", "ar"],
        "ar": ["en", "cy", "ar"],
    }


def test_reordering_pages_reorders_the_live_child_list():
    parent = PageFactory(slug="nets")
    first = PageFactory(slug="first", parent=parent, position=0, title_en="First")
    second = PageFactory(slug="second", parent=parent, position=1, title_en="Second")
    publish_fixture(parent, "en")
    publish_fixture(first, "en")
    publish_fixture(second, "en")
    with edited():
        moves.move_page(page=first, parent=parent, slug="first", position=2)
    children = LiveSnapshot.objects.get(page=parent).content["children"]
    assert [child["title"] for child in children] == ["Second", "First"]


def test_link_to_a_page_live_only_in_welsh_leads_to_the_welsh_page(client):
    # Welsh-only pages exist (a Welsh-language service, say); an English link to one must not 404.
    target = PageFactory(slug="welsh-only", title_en="Welsh only", title_cy="Cymraeg yn unig")
    SectionFactory(page=target, heading_en="Intro", heading_cy="Cyflwyniad", body_cy="<p>Testun.</p>")
    page = PageFactory(slug="glucagonoma")
    SectionFactory(page=page, body_en=f'<p>See <a href="page:{target.pk}#cyflwyniad">this</a>.</p>')
    publish_fixture(page, "en")
    publish_fixture(target, "cy")
    html = LiveSnapshot.objects.get(page=page).content["sections"][0]["html"]
    assert html == '<p>See <a href="/cy/welsh-only/#cyflwyniad">this</a>.</p>'
    assert client.get("/cy/welsh-only/").status_code == 200


def test_section_anchors_never_clash_with_the_pages_own_ids():
    page = PageFactory()
    for heading in ("Main", "Terms", "Term main", "Symptoms", "Symptoms"):
        SectionFactory(page=page, heading_en=heading, body_en='<p><a href="term:main" title="Chief.">main</a></p>')
    [snapshot] = publish_fixture(page, "en")
    anchors = [s["anchor"] for s in snapshot.content["sections"]] + [t["anchor"] for t in snapshot.content["terms"]]
    assert anchors == ["main-2", "terms-2", "section-term-main", "symptoms", "symptoms-2", "term-main"]


def test_one_term_with_two_definitions_keeps_both():
    page = PageFactory()
    SectionFactory(page=page, body_en='<p><a href="term:grade" title="How fast cells grow.">grade</a></p>')
    SectionFactory(page=page, body_en='<p><a href="term:grade" title="A school year.">grade</a></p>')
    [snapshot] = publish_fixture(page, "en")
    assert [(t["anchor"], t["definition"]) for t in snapshot.content["terms"]] == [
        ("term-grade", "How fast cells grow."),
        ("term-grade-2", "A school year."),
    ]
    assert 'href="#term-grade-2"' in snapshot.content["sections"][1]["html"]


def test_publishing_a_hub_again_rebuilds_only_the_dependents_whose_content_changes(django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with edited():
        hub = PageFactory(slug="nets", title_en="NETs")
        children = [PageFactory(slug=f"child-{n}", parent=hub, title_en=f"Child {n}") for n in range(4)]
    for page in [hub, *children]:
        publish_fixture(page, "en")
    rendered = {s.pk: (s.html, s.content) for s in LiveSnapshot.objects.filter(page__in=children)}

    def updates_of_children() -> int:
        with CaptureQueriesContext(connection) as queries:
            publish_fixture(hub, "en")
        hub_snapshot = LiveSnapshot.objects.get(page=hub).pk
        updates = [q["sql"] for q in queries if q["sql"].startswith(f'UPDATE "{LiveSnapshot._meta.db_table}"')]
        return sum(
            1 for sql in updates if not re.search(rf'WHERE .*"id" = {hub_snapshot}\b|"page_id" = {hub.pk}\b', sql)
        )

    # Wording changed, title the same: the children's breadcrumbs say what they said.
    with edited():
        hub.summary_en = "Neuroendocrine tumours."
        hub.save()
    assert updates_of_children() == 0
    assert {s.pk: (s.html, s.content) for s in LiveSnapshot.objects.filter(page__in=children)} == rendered
    # A new title: every child shows it.
    with edited():
        hub.title_en = "Neuroendocrine tumours"
        hub.save()
    assert updates_of_children() > 0
    for snapshot in LiveSnapshot.objects.filter(page__in=children):
        assert snapshot.content["breadcrumbs"][0]["title"] == "Neuroendocrine tumours"
        assert "Neuroendocrine tumours" in snapshot.html
