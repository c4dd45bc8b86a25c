"""The scale generator: its rows are the workflow's, its refusals are clear."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from pages import history, publishing
from pages.models import LiveSnapshot, Page, PageRevision, Publication, Section
from review import scale
from review.dates import check_review_dates
from review.models import ReviewRequest, State, Transition

pytestmark = pytest.mark.django_db


def make(**options) -> str:
    out = io.StringIO()
    call_command("make_scale_content", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def scale_site(settings):
    settings.DEBUG = True
    return make(pages=10, languages="en,cy", batch=5, workers=1)


def test_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        make(pages=5)
    assert not Page.objects.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pages": 0}, "--pages must be between 1 and 200,000; it was 0"),
        ({"pages": 5, "languages": "en,xx"}, "Unknown language 'xx': the site has en, cy, ar"),
        ({"pages": 5, "languages": "cy"}, "must include the source language, en"),
        ({"pages": 5, "batch": 0}, "--batch must be between 1 and 5,000"),
        ({"pages": 5, "workers": 0}, "--workers must be between 1 and 64"),
    ],
)
def test_bad_options_are_refused_before_anything_is_written(settings, options, message):
    settings.DEBUG = True
    with pytest.raises(CommandError, match=message):
        make(**options)
    assert not Page.objects.exists()


def test_it_reports_progress_and_what_it_made(scale_site):
    assert "Making 10 pages live in en, cy, 5 a transaction" in scale_site
    assert "5 / 10 pages, 10 live versions" in scale_site
    assert "Made 10 pages and 20 live versions" in scale_site
    assert LiveSnapshot.objects.live().count() == 20


def test_a_tree_of_hubs_with_pages_and_sub_pages(scale_site):
    hubs = Page.objects.filter(parent__isnull=True)
    assert [hub.path for hub in hubs] == ["scale-1"]
    depths = sorted({page.path.count("/") for page in Page.objects.all()})
    assert depths == [0, 1, 2]
    assert Page.objects.filter(parent=hubs[0]).count() >= 5


def test_every_live_version_went_through_the_workflow(scale_site):
    for snapshot in LiveSnapshot.objects.live().select_related("page", "revision__revision"):
        request = ReviewRequest.objects.get(page=snapshot.page, language=snapshot.language, state=State.PUBLISHED)
        assert request.revision == snapshot.revision
        assert request.wording == snapshot.source
        assert request.submitted_at < request.approved_at <= request.published_at == snapshot.published_at
        assert list(request.authors.values_list("username", flat=True)) == ["scale-editor"]
        assert request.approved_by.username == "scale-reviewer" and request.published_by.username == "scale-publisher"
        steps = Transition.objects.filter(request=request).order_by("at")
        assert [(s.action, s.from_state, s.to_state, s.user.username) for s in steps] == [
            ("submit", "draft", "in_review", "scale-editor"),
            ("approve", "in_review", "approved", "scale-reviewer"),
            ("publish", "approved", "live", "scale-publisher"),
        ]
        assert Publication.objects.filter(
            page=snapshot.page, language=snapshot.language, revision=snapshot.revision
        ).exists()
        check_review_dates(
            page=snapshot.page,
            revision=snapshot.revision,
            last_reviewed=snapshot.last_reviewed,
            next_review_due=snapshot.next_review_due,
        )
        # What the workflow would freeze from the stored revision is what was signed off.
        assert publishing.freeze_for_sign_off(snapshot.revision, snapshot.language) == snapshot.source


def test_revisions_are_numbered_and_described_as_history_does(scale_site):
    for page in Page.objects.all():
        revisions = list(PageRevision.objects.filter(page=page).order_by("number"))
        assert [r.number for r in revisions] == [1, 2, 3]
        previous = None
        for revision in revisions:
            state = history.page_state(revision)
            assert revision.languages == history.changed_languages(previous, state)
            assert revision.structure_changed == (previous is None or history.structure_changed(previous, state))
            assert revision.every_language_changed == (
                previous is None or history.every_language_changed(previous, state)
            )
            previous = state
        # The working copy is the last revision.
        sections = list(Section.objects.filter(page=page).values("id", "body_en", "body_cy", "heading_en"))
        assert [{key: s[key] for key in ("id", "body_en", "body_cy", "heading_en")} for s in previous.sections] == (
            sections
        )
        assert previous.page["title_en"] == page.title_en


def test_one_page_in_ten_has_a_newer_revision_waiting_for_review(scale_site):
    waiting = ReviewRequest.objects.get(state=State.IN_REVIEW)
    live = LiveSnapshot.objects.get(page=waiting.page, language="en")
    assert waiting.revision.number == 3 and live.revision.number == 2
    assert Transition.objects.get(request=waiting).from_state == "live"


def test_the_snapshots_are_what_publishing_builds(scale_site):
    for snapshot in LiveSnapshot.objects.live().select_related("page"):
        made = {name: getattr(snapshot, name) for name in ("title", "summary", "content", "html", "text")}
        made["fallback_html"] = snapshot.fallback_html
        made["references"] = set(snapshot.references.values_list("pk", flat=True))
        with transaction.atomic():
            publishing.build(snapshot)
        snapshot.refresh_from_db()
        built = {name: getattr(snapshot, name) for name in ("title", "summary", "content", "html", "text")}
        built["fallback_html"] = snapshot.fallback_html
        built["references"] = set(snapshot.references.values_list("pk", flat=True))
        assert made == built, snapshot


def test_pages_link_to_each_other_and_are_served(scale_site, client):
    linked = LiveSnapshot.objects.filter(language="en", references__isnull=False).exclude(page__parent=None).first()
    response = client.get(f"/en/{linked.path}/")
    assert response.status_code == 200
    assert response.content.decode() == linked.html
    hub = LiveSnapshot.objects.get(path="scale-1", language="en")
    assert len(hub.content["children"]) == Page.objects.filter(parent__path="scale-1").count()


def test_a_second_run_adds_to_the_first(scale_site):
    out = make(pages=3, languages="en", batch=10, workers=1)
    assert "the site now has 13 scale pages" in out
    assert Page.objects.filter(parent__isnull=True).count() == 2
    assert LiveSnapshot.objects.live().count() == 20 + 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="batches are made side by side on PostgreSQL only")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_batches_made_side_by_side_give_the_same_site(settings):
    settings.DEBUG = True
    make(pages=30, languages="en", batch=5, workers=2)
    assert LiveSnapshot.objects.live().count() == 30
    hub = LiveSnapshot.objects.get(path="scale-1")
    # The hub's child list holds every child, whichever process committed last.
    assert len(hub.content["children"]) == Page.objects.filter(parent__path="scale-1").count()
    assert search_finds("px000017") == [Page.objects.get(slug="page-17").path]
    assert scale.existing_pages() == 30


def search_finds(word: str) -> list[str]:
    from pages import search

    return [result.url.removeprefix("/en/").rstrip("/") for result in search.find(word, "en").results]
