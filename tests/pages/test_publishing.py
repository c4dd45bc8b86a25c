"""Publishing builds live snapshots; the working copy never reaches the public."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from pages.models import LiveSnapshot
from pages.publishing import InvalidReviewDates, NotTranslated, UnknownLanguage
from tests.factories import PageFactory, SectionFactory, publish

pytestmark = pytest.mark.django_db


def test_publishing_freezes_title_sections_and_review_dates():
    page = PageFactory(title_en="Glucagonoma", summary_en="Rare.")
    SectionFactory(page=page, position=1, heading_en="Symptoms", body_en="<p>Rash.</p>")
    SectionFactory(page=page, position=0, heading_en="What it is", body_en="<p>A NET.</p>")
    [snapshot] = publish(page, "en")
    assert snapshot.title == "Glucagonoma"
    assert [s["heading"] for s in snapshot.content["sections"]] == ["What it is", "Symptoms"]
    assert [s["anchor"] for s in snapshot.content["sections"]] == ["what-it-is", "symptoms"]
    assert snapshot.last_reviewed == datetime.date(2025, 3, 11)
    assert snapshot.next_review_due == datetime.date(2028, 3, 11)
    assert snapshot.signed_off_by == "Dr Test Reviewer"


def test_editing_the_working_copy_changes_nothing_live(client):
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma")
    section = SectionFactory(page=page, body_en="<p>Approved wording.</p>")
    publish(page, "en")
    page.title_en = "Unreviewed title"
    page.save()
    section.body_en = "<p>Unreviewed wording.</p>"
    section.save()
    SectionFactory(page=page, heading_en="Unreviewed section")

    response = client.get("/en/glucagonoma/")
    html = response.content.decode()
    assert "Approved wording." in html
    assert "Unreviewed" not in html


def test_untranslated_sections_keep_source_wording_marked_as_such():
    page = PageFactory(title_en="Glucagonoma", title_ar="ورم")
    SectionFactory(
        page=page, heading_en="Symptoms", heading_ar="الأعراض", body_en="<p>Rash.</p>", body_ar="<p>طفح.</p>"
    )
    SectionFactory(page=page, heading_en="Treatment", body_en="<p>Surgery.</p>")
    [snapshot] = publish(page, "ar")
    sections = snapshot.content["sections"]
    assert [(s["heading"], s["lang"]) for s in sections] == [("الأعراض", "ar"), ("Treatment", "en")]
    assert snapshot.content["has_untranslated_parts"] is True


def test_a_language_without_a_title_cannot_be_published():
    page = PageFactory(title_en="Glucagonoma")
    with pytest.raises(NotTranslated):
        publish(page, "cy")
    assert not LiveSnapshot.objects.exists()


def test_unknown_language_and_bad_dates_are_refused():
    page = PageFactory()
    with pytest.raises(UnknownLanguage):
        publish(page, "xx")
    with pytest.raises(InvalidReviewDates):
        publish(page, "en", next_review_due=datetime.date(2025, 3, 11))
    assert not LiveSnapshot.objects.exists()


def test_links_to_a_page_follow_it_when_it_moves():
    parent = PageFactory(slug="nets")
    target = PageFactory(slug="tests", parent=parent, title_en="Tests")
    publish(target, "en")
    page = PageFactory(slug="glucagonoma")
    SectionFactory(page=page, body_en=f'<p>Read about <a href="page:{target.pk}">tests</a>.</p>')
    publish(page, "en")

    target.slug = "tests-to-diagnose"
    target.save()

    snapshot = LiveSnapshot.objects.get(page=page, language="en")
    assert '<a href="/en/nets/tests-to-diagnose/">tests</a>' in snapshot.content["sections"][0]["html"]
    assert LiveSnapshot.objects.get(page=target).path == "nets/tests-to-diagnose"


def test_link_to_a_page_not_yet_live_is_plain_text_until_it_goes_live():
    target = PageFactory(slug="tests")
    page = PageFactory(slug="glucagonoma")
    SectionFactory(page=page, body_en=f'<p>Read about <a href="page:{target.pk}">tests</a>.</p>')
    [snapshot] = publish(page, "en")
    assert snapshot.content["sections"][0]["html"] == "<p>Read about tests.</p>"

    publish(target, "en")
    snapshot.refresh_from_db()
    assert snapshot.content["sections"][0]["html"] == '<p>Read about <a href="/en/tests/">tests</a>.</p>'


def test_breadcrumbs_and_children_use_live_titles_only():
    parent = PageFactory(slug="nets", title_en="NETs")
    child = PageFactory(slug="glucagonoma", parent=parent, title_en="Glucagonoma")
    PageFactory(slug="draft", parent=parent, title_en="Draft child")
    publish(parent, "en")
    [child_snapshot] = publish(child, "en")
    parent_snapshot = LiveSnapshot.objects.get(page=parent)
    assert child_snapshot.content["breadcrumbs"] == [{"title": "NETs", "lang": "en", "url": "/en/nets/"}]
    assert parent_snapshot.content["children"] == [
        {"title": "Glucagonoma", "lang": "en", "url": "/en/nets/glucagonoma/"}
    ]


def test_every_snapshot_knows_the_languages_the_page_is_live_in():
    page = PageFactory(title_en="Glucagonoma", title_cy="Glwcagonoma", title_ar="ورم")
    publish(page, "ar")
    publish(page, "en", "cy")
    assert {s.language: s.languages for s in LiveSnapshot.objects.filter(page=page)} == {
        "en": ["en", "cy", "ar"],
        "cy": ["en", "cy", "ar"],
        "ar": ["en", "cy", "ar"],
    }


def test_publish_command_publishes_and_explains_refusals():
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma")
    call_command("publish_page", "glucagonoma", "--language", "en", "--signed-off-by", "Dr A", stdout=io.StringIO())
    assert LiveSnapshot.objects.filter(page=page, language="en").exists()

    with pytest.raises(CommandError, match="has no title in cy"):
        call_command("publish_page", "glucagonoma", "--language", "cy", "--signed-off-by", "Dr A")
    with pytest.raises(CommandError, match="No page at 'nowhere'"):
        call_command("publish_page", "nowhere", "--language", "en", "--signed-off-by", "Dr A")
    with pytest.raises(CommandError, match="is not a date"):
        call_command(
            "publish_page", "glucagonoma", "--language", "en", "--signed-off-by", "A", "--last-reviewed", "11/3/25"
        )
