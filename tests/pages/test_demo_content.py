"""The demo content: the glucagonoma page and its neighbours, loaded by a command."""

import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils.formats import date_format

from pages.models import LiveSnapshot, Page, Section
from review.services import default_review_dates
from tests.factories import edited

pytestmark = pytest.mark.django_db

GLUCAGONOMA = "neuroendocrine-cancer/pancreatic-neuroendocrine-tumours/glucagonoma"


def test_loading_twice_creates_nothing_the_second_time():
    out = io.StringIO()
    call_command("load_demo_content", stdout=out)
    counts = (Page.objects.count(), Section.objects.count(), LiveSnapshot.objects.count())
    assert "10 pages created" in out.getvalue()

    out = io.StringIO()
    call_command("load_demo_content", stdout=out)
    assert (Page.objects.count(), Section.objects.count(), LiveSnapshot.objects.count()) == counts
    assert "0 pages created, 10 existed" in out.getvalue()


def test_a_second_load_leaves_editors_changes_alone(demo_content):
    page = Page.objects.get(path=GLUCAGONOMA)
    page.title_en = "Glucagonoma (edited)"
    with edited():
        page.save()
    call_command("load_demo_content", stdout=io.StringIO())
    page.refresh_from_db()
    assert page.title_en == "Glucagonoma (edited)"


def test_glucagonoma_is_live_in_english_with_all_its_sections(client, demo_content):
    html = client.get(f"/en/{GLUCAGONOMA}/").content.decode()
    headings = re.findall(r'<h2 id="[^"]+">([^<]+)</h2>', html)
    for heading in ("Symptoms", "Diagnosis", "Treatment", "Follow up", "Survival", "Coping"):
        assert heading in headings
    # Signed off through the workflow when loaded, with the page's three-year review cycle.
    reviewed, due = default_review_dates(Page.objects.get(path=GLUCAGONOMA))
    assert f'Last reviewed: <time datetime="{reviewed:%Y-%m-%d}">{date_format(reviewed)}</time>' in html
    assert f'Next review due: <time datetime="{due:%Y-%m-%d}">{date_format(due)}</time>' in html
    assert "Sample Reviewer (demonstration data)" in html
    # Glossary terms the copy had lost are back, with their definitions.
    assert (
        '<a class="term" href="#term-digestive-system" aria-describedby="term-digestive-system--definition"'
        ' id="term-digestive-system--in-text">digestive system</a>'
    ) in html
    assert '<dt id="term-biopsy"><dfn>' in html
    assert "<li>liver</li>" in html


def test_glucagonoma_is_live_in_welsh(client, demo_content):
    html = client.get(f"/cy/{GLUCAGONOMA}/").content.decode()
    assert re.search(r'<html lang="cy"', html)
    assert '<article class="page" lang="cy" dir="ltr">' in html
    assert 'class="untranslated"' not in html
    assert "Symptomau" in html


def test_arabic_glucagonoma_is_partly_translated_and_says_so(client, demo_content):
    html = client.get(f"/ar/{GLUCAGONOMA}/").content.decode()
    assert '<article class="page" lang="ar" dir="rtl">' in html
    assert html.count('class="untranslated"') == 9


def test_sibling_page_in_welsh_falls_back_to_english(client, demo_content):
    response = client.get("/cy/neuroendocrine-cancer/tests-to-diagnose/")
    assert response.status_code == 200
    html = response.content.decode()
    # The English wording is marked as English; the site's own words around it are Welsh.
    assert '<h1 lang="en" dir="ltr">Tests to diagnose neuroendocrine cancer</h1>' in html
    assert '<article class="page" lang="cy" dir="ltr">' in html


def test_every_demo_page_is_marked_as_sample_content(client, demo_content):
    assert not Page.objects.filter(is_sample_content=False).exists()
    html = client.get(f"/en/{GLUCAGONOMA}/").content.decode()
    assert "Sample content: this page shows how the site works. It is not medical advice." in html


def test_invalid_content_file_loads_nothing(tmp_path):
    content = {
        "pages": [
            {"path": "good", "title": {"en": "Good"}, "sections": []},
            {
                "path": "bad",
                "title": {"en": "Bad"},
                "sections": [{"heading": {"en": "X"}, "body": {"en": '<p><a href="/en/missing/">x</a></p>'}}],
            },
        ]
    }
    file = tmp_path / "content.json"
    file.write_text(json.dumps(content))
    with pytest.raises(CommandError, match=r'bad, section 1: .*The link to "/en/missing/" does not lead to a page'):
        call_command("load_demo_content", file=file, stdout=io.StringIO())
    assert not Page.objects.exists()


def test_unreadable_content_file_is_a_clear_error(tmp_path):
    file = tmp_path / "broken.json"
    file.write_text("{not json")
    with pytest.raises(CommandError, match="is not valid JSON"):
        call_command("load_demo_content", file=file)
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_demo_content", file=tmp_path / "missing.json")
