"""The workflow's steps as people take them in the admin, for tests."""

import datetime

from review.models import ReviewRequest
from tests.admin_forms import save_in_admin

TODAY = datetime.date(2026, 11, 25)  # the fixed_day fixture's


def as_user(client, user):
    client.force_login(user)
    return client


def edit(client, user, page, **changes):
    """Save ``page`` through the admin as ``user``."""
    page.refresh_from_db()
    return save_in_admin(as_user(client, user), page, **changes)


def submit(client, user, page, *languages, status=302):
    response = as_user(client, user).post(
        f"/admin/pages/page/{page.pk}/workflow/submit/", {"languages": list(languages), "comment": "Please check."}
    )
    assert response.status_code == status
    return response


def open_request(page, language="en"):
    return ReviewRequest.objects.filter(page=page, language=language).order_by("-pk").first()


def approve(client, user, review, status=302, **dates):
    data = {"last_reviewed": dates.get("last_reviewed", TODAY), "next_review_due": dates.get("next_review_due", "")}
    data |= {"comment": dates.get("comment", "Clinically accurate."), "approve": "1"}
    if not data["next_review_due"]:
        data["next_review_due"] = datetime.date(2029, 11, 25)
    response = as_user(client, user).post(f"/admin/pages/page/{review.page_id}/workflow/review/{review.pk}/", data)
    assert response.status_code == status, response.content.decode()[:3000]
    return response


def publish_in_admin(client, user, review, status=302):
    response = as_user(client, user).post(f"/admin/pages/page/{review.page_id}/workflow/publish/{review.pk}/")
    assert response.status_code == status
    return response


def public_text(client, language, path="glucagonoma"):
    client.logout()
    return client.get(f"/{language}/{path}/").content.decode()


def messages_of(response) -> list[str]:
    """The messages of this response (earlier, unread ones first)."""
    return [str(m) for m in response.wsgi_request._messages]


def streamed(response) -> str:
    """The whole body of a streamed response (the ledger's CSV), as text."""
    assert response.streaming, "expected a streamed response"
    return b"".join(response.streaming_content).decode()
