"""The admin page form's data, for tests that save pages through the real admin."""

import re

from pages.models import PageRevision


def change_form(page, **changes):
    """The admin change form's data for ``page`` as it stands, with ``changes``."""
    data = {
        "slug": page.slug,
        "position": str(page.position),
        "parent": page.parent_id or "",
        "owner": page.owner_id or "",
        "review_interval_months": str(page.review_interval_months),
        "change_comment": "Routine update.",
        "based_on": PageRevision.objects.filter(page=page).order_by("-number").values_list("number", flat=True).first(),
    }
    for code in ("en", "cy", "ar"):
        data[f"title_{code}"] = getattr(page, f"title_{code}") or ""
        data[f"summary_{code}"] = getattr(page, f"summary_{code}") or ""
    sections = list(page.sections.all())
    data |= {
        "sections-TOTAL_FORMS": str(len(sections)),
        "sections-INITIAL_FORMS": str(len(sections)),
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "1000",
    }
    for number, section in enumerate(sections):
        data[f"sections-{number}-id"] = str(section.pk)
        data[f"sections-{number}-page"] = str(page.pk)
        data[f"sections-{number}-position"] = str(section.position)
        for code in ("en", "cy", "ar"):
            data[f"sections-{number}-heading_{code}"] = getattr(section, f"heading_{code}") or ""
            data[f"sections-{number}-body_{code}"] = getattr(section, f"body_{code}") or ""
    return data | changes


def save_in_admin(client, page, **changes):
    response = client.post(f"/admin/pages/page/{page.pk}/change/", change_form(page, **changes))
    assert response.status_code == 302, re.findall(r'<ul class="errorlist[^>]*>.*?</ul>', response.content.decode())
    return response
