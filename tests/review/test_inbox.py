"""Each person's work inbox, the admin's front page: what waits for them, one click from
the screen to act on it, at a cost that does not grow with the site."""

import datetime
import re

import pytest

from review import services
from tests.factories import PageFactory, UserFactory, publish_fixture
from tests.review.steps import as_user, edit, open_request

pytestmark = pytest.mark.django_db


def links(html: str) -> set[str]:
    inbox = html[html.index('id="inbox-title"') : html.index("</section>")]
    return set(re.findall(r'href="(/admin/[^"]+)"', inbox))


def test_each_person_sees_what_waits_for_them_and_nothing_else(client, people, page):
    # In review (submitted by the editor), approved, sent back, and an edit nobody submitted.
    edit(client, people["editor"], page, title_en="Glucagonoma, revised")
    services.submit(page=page, languages=["en"], user=people["editor"])
    approved = PageFactory(slug="insulinoma", title_en="Insulinoma")
    services.submit(page=approved, languages=["en"], user=people["editor2"])
    services.approve(request=open_request(approved), user=people["reviewer"])
    sent_back = PageFactory(slug="gastrinoma", title_en="Gastrinoma")
    services.submit(page=sent_back, languages=["en"], user=people["editor"])
    services.request_changes(request=open_request(sent_back), user=people["reviewer"], comment="Check the dose.")
    draft = PageFactory(slug="vipoma", title_en="VIPoma")
    edit(client, people["editor"], draft, summary_en="A rare tumour.")
    owned = PageFactory(slug="owned", title_en="Owned", owner=people["publisher"])
    publish_fixture(owned, "en", next_review_due=datetime.date.today() + datetime.timedelta(days=10))

    reviewer = links(as_user(client, people["reviewer"]).get("/admin/").content.decode())
    assert reviewer == {f"/admin/pages/page/{page.pk}/workflow/review/{open_request(page).pk}/"}

    publisher = links(as_user(client, people["publisher"]).get("/admin/").content.decode())
    assert publisher == {f"/admin/pages/page/{approved.pk}/change/", f"/admin/pages/page/{owned.pk}/change/"}

    editor = as_user(client, people["editor"]).get("/admin/").content.decode()
    assert links(editor) == {
        f"/admin/pages/page/{sent_back.pk}/change/",
        f"/admin/pages/page/{sent_back.pk}/workflow/review/{open_request(sent_back).pk}/",
        f"/admin/pages/page/{draft.pk}/change/",
    }
    assert "Changes requested of you" in editor and "not submitted for review yet" in editor

    # The author of the version in review may not sign it off, so it is not in her inbox.
    author = links(as_user(client, people["editing_reviewer"]).get("/admin/").content.decode())
    assert f"/admin/pages/page/{page.pk}/workflow/review/{open_request(page).pk}/" in author
    edit(client, people["editing_reviewer"], page, summary_en="Rare; revised.")
    services.submit(page=page, languages=["en"], user=people["editing_reviewer"])
    author = links(as_user(client, people["editing_reviewer"]).get("/admin/").content.decode())
    assert not any("/workflow/review/" in link for link in author)

    nothing = as_user(client, UserFactory(username="idle", is_staff=True)).get("/admin/").content.decode()
    assert "Nothing is waiting for you." in nothing


@pytest.mark.parametrize("size", [1, 25])
def test_the_inbox_costs_the_same_queries_however_much_waits(client, people, size, django_assert_num_queries):
    for number in range(size):
        waiting = PageFactory(slug=f"page-{number}", owner=people["reviewer"])
        services.submit(page=waiting, languages=["en"], user=people["editor"])
        publish_fixture(PageFactory(slug=f"live-{number}", owner=people["reviewer"]), "en",
                        next_review_due=datetime.date.today())  # fmt: skip
    as_user(client, people["reviewer"])
    client.get("/admin/")  # the session's first read
    with django_assert_num_queries(QUERIES):
        html = client.get("/admin/").content.decode()
    assert len([link for link in links(html) if "/workflow/review/" in link]) == min(size, 20)


# Session, user, permissions (twice), the sign-off list, the reviews due, and the admin log.
QUERIES = 7
