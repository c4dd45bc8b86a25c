"""Moving pages: a page's address (slug), parent and position among its siblings.

These are public facts once the page, or a page below it, has been public: the
address is printed on leaflets and bookmarked, the place shows in breadcrumbs and
child lists. A move changes the page and every page below it at once, gives their
live versions the new addresses, rebuilds what shows them, and keeps each old
address as a Redirect (301 to wherever the page is now), all in one transaction.
Who may move what is the workflow's rule (``review.services.move``).
"""

from collections.abc import Sequence

import reversion
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from pages import publishing
from pages.models import LiveSnapshot, Page, Redirect, require_revision

PLACE_FIELDS = ("parent", "slug", "position")


class MoveError(publishing.PublishingError):
    """The move was refused; the message says why."""


def has_public_place(page: Page) -> bool:
    """Whether ``page``'s place is a public fact: it, or a page below it, has been public
    (live now or withdrawn: a withdrawn address answers 410, and keeps doing so)."""
    below = Q(page__path__startswith=f"{page.path}/")
    return LiveSnapshot.objects.filter(Q(page=page) | below).exists()


def move_page(*, page: Page, parent: Page | None, slug: str, position: int) -> Page:
    """Put ``page`` under ``parent`` (None: the top level) at ``slug`` and ``position``.

    Runs inside the caller's revision (``pages.history.revision``): the page's new place
    is recorded in its history. Raises MoveError, and changes nothing, when the new place
    is not valid (taken, inside itself, too long...)."""
    require_revision()
    with transaction.atomic():
        publishing.lock_live_site()
        page = Page.objects.select_for_update().get(pk=page.pk)
        # As stored now: the caller's copy may predate another move of the parent.
        parent = Page.objects.get(pk=parent.pk) if parent is not None else None
        old_path = page.path
        page.parent, page.slug, page.position = parent, slug, position
        try:
            page.full_clean(exclude=[f.name for f in Page._meta.fields if f.name not in PLACE_FIELDS])
        except ValidationError as error:
            raise MoveError(" ".join(error.messages)) from None
        new_path = page.computed_path()
        moved = _move_paths(page, old_path, new_path)
        Page.objects.filter(pk=page.pk).update(parent=parent, slug=slug, position=position, path=new_path)
        page.refresh_from_db()
        reversion.add_to_revision(page)
        # What showed the page (its old parent's child list among them) refers to it, and
        # its new parent's child list gains it: rebuilding its dependents covers both.
        if moved:
            publishing.refresh_moved_pages(moved)
        else:
            publishing.rebuild_dependents([page])
    return page


def _move_paths(page: Page, old_path: str, new_path: str) -> Sequence[Page]:
    """Give ``page`` and the pages below it their new paths, and keep each old public
    address as a redirect. Returns the pages whose path changed (none if it did not)."""
    if old_path == new_path:
        return []
    descendants = list(Page.objects.filter(path__startswith=f"{old_path}/").order_by("path"))
    for descendant in descendants:
        descendant.path = new_path + descendant.path[len(old_path) :]
    Page.objects.bulk_update(descendants, ["path"])
    page.path = new_path
    moved = [page, *descendants]
    # An address another page had leads to that page for good: no move takes it over.
    new_paths = {p.path: p.pk for p in moved}
    for old_path_taken, owner in Redirect.objects.filter(old_path__in=new_paths).values_list("old_path", "page_id"):
        if owner != new_paths[old_path_taken]:
            raise MoveError(
                _("/%(path)s/ belonged to another page, and still leads there: choose another address.")
                % {"path": old_path_taken}
            )
    public = set(LiveSnapshot.objects.filter(page__in=moved).values_list("page_id", flat=True))
    old_paths = {page.pk: old_path} | {d.pk: old_path + d.path[len(new_path) :] for d in descendants}
    # A page moved back to an address it had: that address is its own again, not a redirect.
    Redirect.objects.filter(old_path__in=[p.path for p in moved]).delete()
    for moved_page in moved:
        if moved_page.pk in public:
            Redirect.objects.update_or_create(old_path=old_paths[moved_page.pk], defaults={"page": moved_page})
    return moved
