"""Edit history: every change to a page is one revision of the page and all its
sections, in every language, with who, when, and what changed and why.

Everything that changes content opens :func:`revision`; the admin, the commands
and the services all go through it. A revision holding pages without a comment
is refused, and a page or section saved outside a revision raises
``RevisionRequired``, so no change goes without a history. History only grows:
reverting and recovering write new revisions.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import reversion
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.signals import post_delete
from reversion.models import Version
from reversion.revisions import _get_options

from pages import languages
from pages.models import Page, PageRevision, Section
from pages.people import display_name

PAGE_FIELDS = ("title", "summary")
SECTION_FIELDS = ("heading", "body")
# What a page's place and shape are made of, beside its wording.
STRUCTURE_FIELDS = ("parent_id", "slug", "position", "owner_id", "related", "is_sample_content")


class HistoryError(Exception):
    """A history operation was refused; the message says why, for the person who asked."""


class CommentRequired(HistoryError):
    pass


def register() -> None:
    """Register pages and sections with django-reversion.

    Called from the app's ready(), after django-modeltranslation has added the
    per-language columns: reversion fixes a model's field list when it is
    registered, and registering earlier would leave every translation out. The
    untranslated originals (``title``, ``body``...) are left out because they read
    whichever language happens to be active.
    """
    # Each follows the other, so that saving a section alone still records the
    # whole page, and saving the page records every section.
    reversion.register(Page, exclude=PAGE_FIELDS, follow=["sections"])
    reversion.register(Section, exclude=SECTION_FIELDS, follow=["page"])
    post_delete.connect(_record_section_deletion, sender=Section)
    reversion.signals.pre_revision_commit.connect(_refuse_without_comment)
    reversion.signals.post_revision_commit.connect(_number_page_revisions)


@contextmanager
def revision(*, user: AbstractBaseUser | None, comment: str) -> Iterator[None]:
    """Run a change to content as one revision, in one transaction.

    Every page saved inside the block is recorded with all its sections. Raises
    CommentRequired, before anything is saved, when ``comment`` is empty.
    """
    comment = (comment or "").strip()
    if not comment:
        raise CommentRequired("Say what changed and why.")
    with transaction.atomic(), reversion.create_revision():
        reversion.set_user(user if user is not None and user.is_authenticated else None)
        reversion.set_comment(comment)
        yield


def _record_section_deletion(sender, instance: Section, **kwargs) -> None:
    # A deleted section saves nothing, so without this its page's revision would
    # not know it had gone.
    if reversion.is_active():
        page = Page.objects.filter(pk=instance.page_id).first()
        if page is not None:
            reversion.add_to_revision(page)


def _refuse_without_comment(sender, revision, versions, **kwargs) -> None:
    if not revision.comment.strip() and any(v.content_type_id == _page_type().pk for v in versions):
        raise CommentRequired("A change to a page needs a comment: say what changed and why.")


def _page_type() -> ContentType:
    return ContentType.objects.get_for_model(Page)


def _section_type() -> ContentType:
    return ContentType.objects.get_for_model(Section)


@dataclass
class PageState:
    """A page and its sections as one revision holds them."""

    page: dict
    sections: list[dict]  # in their order on the page

    @classmethod
    def from_versions(cls, page_id: int, versions) -> "PageState":
        page = None
        sections = []
        for version in versions:
            if version.content_type_id == _page_type().pk and int(version.object_id) == page_id:
                page = version.field_dict | {"id": page_id}
            elif version.content_type_id == _section_type().pk:
                fields = version.field_dict
                if fields["page_id"] == page_id:
                    sections.append(fields | {"id": int(version.object_id)})
        sections.sort(key=lambda section: (section["position"], section["id"]))
        return cls(page=page, sections=sections)

    @classmethod
    def from_objects(cls, page: Page, sections: list[Section], related: list[int]) -> "PageState":
        """The state a revision saved of ``page`` (with ``related``, its related pages' ids)
        and ``sections`` holds, read from the objects themselves rather than their versions
        (the scale generator writes them in bulk). The wording, structure and related pages are
        what ``from_versions`` would read back; times keep the microseconds the versions lose."""
        sections = [_field_dict(section) | {"id": section.pk} for section in sections]
        sections.sort(key=lambda section: (section["position"], section["id"]))
        return cls(page=_field_dict(page, related) | {"id": page.pk}, sections=sections)


def _field_dict(obj, many: list[int] | None = None) -> dict:
    """What a version of ``obj`` holds (reversion's ``field_dict``): each field it keeps, by
    attribute name, with ``many`` as the ids of any many-to-many field."""
    fields = {}
    for name in _get_options(type(obj)).fields:
        field = obj._meta.get_field(name)
        fields[field.attname] = list(many or []) if field.many_to_many else getattr(obj, field.attname)
    return fields


def page_state(page_revision: PageRevision) -> PageState:
    return PageState.from_versions(page_revision.page_id, page_revision.revision.version_set.all())


def _number_page_revisions(sender, revision, versions, **kwargs) -> None:
    """Give each page in a new revision its next number and a note of what changed."""
    for version in versions:
        if version.content_type_id != _page_type().pk:
            continue
        page_id = int(version.object_id)
        new = PageState.from_versions(page_id, versions)
        previous = PageRevision.objects.latest_for(page_id)
        old = page_state(previous) if previous else None
        PageRevision.objects.create(
            revision=revision,
            page_id=page_id,
            number=previous.number + 1 if previous else 1,
            languages=changed_languages(old, new),
            structure_changed=old is None or structure_changed(old, new),
            every_language_changed=old is None or every_language_changed(old, new),
        )


def changed_languages(old: PageState | None, new: PageState) -> list[str]:
    """The languages whose wording differs between two states of a page."""
    old_sections = {s["id"]: s for s in old.sections} if old else {}
    new_sections = {s["id"]: s for s in new.sections}
    changed = []
    for code in languages.codes():

        def wording(page, sections, code=code):
            fields = [(page or {}).get(f"{name}_{code}") or "" for name in PAGE_FIELDS]
            return fields, {pk: [s.get(f"{n}_{code}") or "" for n in SECTION_FIELDS] for pk, s in sections.items()}

        old_fields, old_by_section = wording(old.page if old else None, old_sections)
        new_fields, new_by_section = wording(new.page, new_sections)
        empty = ["", ""]
        sections_differ = any(
            old_by_section.get(pk, empty) != new_by_section.get(pk, empty) for pk in old_by_section | new_by_section
        )
        if old_fields != new_fields or sections_differ:
            changed.append(code)
    return changed


def structure_changed(old: PageState, new: PageState) -> bool:
    """Whether the page moved, changed hands, or its sections were added, removed or reordered."""
    page_moved = any(old.page.get(name) != new.page.get(name) for name in STRUCTURE_FIELDS)
    return page_moved or [s["id"] for s in old.sections] != [s["id"] for s in new.sections]


# What a revision changes for the readers of every language once it is published.
READER_STRUCTURE_FIELDS = ("related", "is_sample_content")


def every_language_changed(old: PageState, new: PageState) -> bool:
    """Whether readers in every language would see a change: sections added, removed or
    reordered, or the related pages or sample-content mark changed. (A move is public at
    once through its own step; readers never see the owner.)"""
    moved_sections = [s["id"] for s in old.sections] != [s["id"] for s in new.sections]
    return moved_sections or any(
        sorted(old.page.get(name) or []) != sorted(new.page.get(name) or [])
        if name == "related"
        else old.page.get(name) != new.page.get(name)
        for name in READER_STRUCTURE_FIELDS
    )


def revert_page(*, page: Page, number: int, user: AbstractBaseUser, reason: str = "") -> PageRevision:
    """Restore ``page`` and its sections to revision ``number``, as a new revision.

    Sections added since are deleted; what is live does not change (only the
    working copy does). Raises HistoryError if there is no such revision or the
    page cannot be restored where it was.
    """
    target = PageRevision.objects.filter(page=page, number=number).select_related("revision").first()
    if target is None:
        raise HistoryError(f"“{page}” has no revision {number}.")
    comment = f"Reverted to revision {number} by {display_name(user)}"
    with revision(user=user, comment=f"{comment}: {reason.strip()}" if reason.strip() else comment):
        _restore(page_state(target))
    return PageRevision.objects.latest_for(page)


@dataclass
class DeletedPage:
    title: str
    latest: PageRevision


def deleted_pages() -> list[DeletedPage]:
    """Every page that has been deleted, with its latest revision, newest first."""
    latest: dict[int, PageRevision] = {}
    deleted = PageRevision.objects.exclude(page_id__in=Page.objects.values("pk")).select_related("revision__user")
    for page_revision in deleted:
        if page_revision.page_id not in latest or page_revision.number > latest[page_revision.page_id].number:
            latest[page_revision.page_id] = page_revision
    titles = dict(
        Version.objects.filter(
            revision__in=[r.revision_id for r in latest.values()], content_type=_page_type()
        ).values_list("object_id", "object_repr")
    )
    pages = [DeletedPage(titles.get(str(page_id), str(page_id)), r) for page_id, r in latest.items()]
    return sorted(pages, key=lambda page: page.latest.revision.date_created, reverse=True)


def recover_page(*, page_id: int, user: AbstractBaseUser) -> Page:
    """Bring a deleted page back with its sections, as its latest revision held
    them, in a new revision. Raises HistoryError if it cannot be."""
    if Page.objects.filter(pk=page_id).exists():
        raise HistoryError("That page has not been deleted.")
    latest = PageRevision.objects.select_related("revision").latest_for(page_id)
    if latest is None:
        raise HistoryError("There is no history of that page to recover it from.")
    with revision(user=user, comment=f"Recovered by {display_name(user)}"):
        return _restore(page_state(latest))


def _restore(state: PageState) -> Page:
    """Save ``state`` as the page's working copy, through the ordinary save path.

    A page whose place is public keeps its address, parent and position (a publisher moves
    it); any other page goes back to the place it had, through the ordinary move."""
    from pages import moves  # moves builds on publishing, which builds on this module

    fields = {name: value for name, value in state.page.items() if name not in {"related", "path"}}
    if fields.get("parent_id") and not Page.objects.filter(pk=fields["parent_id"]).exists():
        raise HistoryError("The page it was under no longer exists: recover that page first.")
    page = Page(**fields)
    current = Page.objects.filter(pk=page.pk).first()
    parent, place = page.parent, (page.parent_id, page.slug, page.position)
    moved = current is not None and place != (current.parent_id, current.slug, current.position)
    if current is not None:
        # Saved where it is; the move back (if any) below checks the old place itself.
        page.parent_id, page.slug, page.position = current.parent_id, current.slug, current.position
    try:
        page.full_clean(exclude=["title", "summary", "path", "created_at", "updated_at"], validate_unique=False)
    except ValidationError as error:
        raise HistoryError(" ".join(error.messages)) from None
    kept = [section["id"] for section in state.sections]
    try:
        page.save()
        page.related.set(Page.objects.filter(pk__in=state.page.get("related", [])))
        Section.objects.filter(page=page).exclude(pk__in=kept).delete()
        for section in state.sections:
            Section(**section).save()
        if moved and not moves.has_public_place(page):
            page = moves.move_page(page=page, parent=parent, slug=place[1], position=place[2])
    except IntegrityError as error:
        raise HistoryError(f"The page cannot be restored as it was: {error}.") from None
    except moves.MoveError as error:
        raise HistoryError(f"The page cannot go back where it was: {error}") from None
    return page
