"""Pages, their sections, and the live snapshots the public reads.

The working copy (Page, Section) is what editors change; the public never reads
it. LiveSnapshot rows are written only by ``pages.publishing``.
"""

import reversion
from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, ProhibitNullCharactersValidator, RegexValidator
from django.db import models
from django.db.models import Max
from django.db.models.functions import Length
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from pages import languages
from pages.fields import RichTextField

slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z",
    _("Use lowercase letters, digits and single hyphens, such as “tests-to-diagnose”."),
)


class RevisionRequired(Exception):
    """Content was saved outside a revision, so the change would have no history."""


class MoveRequired(Exception):
    """A page's address, parent or position was changed by saving it; they change only
    through ``pages.moves.move_page``, which keeps the pages below it, the live site and
    the old addresses right."""


def require_revision() -> None:
    if not reversion.is_active():
        raise RevisionRequired("Change content inside pages.history.revision(...), so that it has a history.")


class PageQuerySet(models.QuerySet):
    def live(self):
        """Pages with a live version in at least one language."""
        return self.filter(pk__in=LiveSnapshot.objects.live().values("page_id"))

    def id_for_public_path(self, public_path: str) -> int | None:
        """The id of the page at a public address such as ``/cy/a/b/``, or None."""
        parts = public_path.strip("/").split("/", 1)
        if len(parts) != 2 or not languages.is_known(parts[0]):
            return None
        return self.filter(path=parts[1]).values_list("pk", flat=True).first()


class Page(models.Model):
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent page"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    slug = models.CharField(
        _("slug"),
        max_length=80,
        validators=[slug_validator],
        help_text=_("The last part of the address. Changing it moves the page; links to it keep working."),
    )
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Order among its siblings."))
    path = models.CharField(_("path"), max_length=500, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200, validators=[ProhibitNullCharactersValidator()])
    summary = models.TextField(
        _("summary"),
        blank=True,
        max_length=2000,
        validators=[ProhibitNullCharactersValidator()],
        help_text=_("One or two sentences, shown in lists."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_pages",
        help_text=_("Answers for this page and receives its review reminders."),
    )
    related = models.ManyToManyField("self", verbose_name=_("related pages"), symmetrical=False, blank=True)
    is_sample_content = models.BooleanField(
        _("sample content"), default=False, help_text=_("Shown to readers as demonstration text, not advice.")
    )
    review_interval_months = models.PositiveSmallIntegerField(
        _("review interval (months)"),
        default=36,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("How long a clinical sign-off holds: approving proposes the next review this far ahead."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = PageQuerySet.as_manager()

    class Meta:
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        ordering = ["path"]

    def __str__(self):
        return self.title_in_use()[0] or self.slug

    def save(self, *args, **kwargs):
        require_revision()
        if self.pk is not None:
            stored = Page.objects.filter(pk=self.pk).values_list("parent_id", "slug", "position").first()
            if stored is not None and stored != (self.parent_id, self.slug, self.position):
                raise MoveRequired(f"Move /{self.path}/ with pages.moves.move_page, not by saving it.")
        if self.parent_id is not None:  # the parent as stored: an object in memory may predate a move
            self.parent.path = Page.objects.values_list("path", flat=True).get(pk=self.parent_id)
        self.path = self.computed_path()
        super().save(*args, **kwargs)

    def computed_path(self) -> str:
        return f"{self.parent.path}/{self.slug}" if self.parent_id else self.slug

    def _longest_path_after_move(self) -> int:
        new_path = self.computed_path()
        old_path = Page.objects.filter(pk=self.pk).values_list("path", flat=True).first() if self.pk else None
        if not old_path:
            return len(new_path)
        longest = Page.objects.filter(path__startswith=f"{old_path}/").aggregate(longest=Max(Length("path")))
        return len(new_path) + max(0, (longest["longest"] or 0) - len(old_path))

    def title_in_use(self) -> tuple[str, str]:
        """The title in the active language, else the source language's; with its language."""
        active = translation.get_language()
        own = getattr(self, f"title_{active}", "") if languages.is_known(active) else ""
        return (own, active) if own else (getattr(self, f"title_{languages.source()}", ""), languages.source())

    def ancestors(self) -> list["Page"]:
        """Parents from the top of the tree down, not including this page."""
        prefixes = self.path.split("/")[:-1]
        paths = ["/".join(prefixes[: depth + 1]) for depth in range(len(prefixes))]
        by_path = {page.path: page for page in Page.objects.filter(path__in=paths)}
        return [by_path[path] for path in paths if path in by_path]

    def clean(self):
        super().clean()
        if self.parent_id is None and self.slug in RESERVED_SLUGS:
            raise ValidationError(
                {"slug": _("“%(slug)s” is taken by the site itself at the top level.") % {"slug": self.slug}}
            )
        ancestor = self.parent
        while ancestor is not None:
            if self.pk and ancestor.pk == self.pk:
                raise ValidationError({"parent": _("A page cannot be placed inside itself or its own sub-pages.")})
            ancestor = ancestor.parent
        if self.slug and self._longest_path_after_move() > self._meta.get_field("path").max_length:
            raise ValidationError(
                {"slug": _("The full address of this page, or of a page below it, would be too long.")}
            )
        if self.slug and Page.objects.exclude(pk=self.pk).filter(path=self.computed_path()).exists():
            raise ValidationError({"slug": _("Another page already has this address.")})
        # An address a public page once had leads to it for good (printed leaflets, bookmarks).
        if self.slug and Redirect.objects.exclude(page_id=self.pk).filter(old_path=self.computed_path()).exists():
            raise ValidationError(
                {"slug": _("This address belonged to another page, and still leads there: choose another.")}
            )


# Top-level addresses the public site uses itself (/en/search/).
RESERVED_SLUGS = frozenset({"search"})


class Section(models.Model):
    page = models.ForeignKey(Page, verbose_name=_("page"), on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField(_("position"), default=0)
    heading = models.CharField(_("heading"), max_length=200, validators=[ProhibitNullCharactersValidator()])
    body = RichTextField(_("body"), blank=True)

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.heading

    def save(self, *args, **kwargs):
        require_revision()
        super().save(*args, **kwargs)


class LiveSnapshotQuerySet(models.QuerySet):
    def live(self):
        """Snapshots the public reads now (not withdrawn)."""
        return self.filter(withdrawn_at__isnull=True)

    def for_reader(self, language: str):
        """Snapshots in ``language`` or, failing that, the source language; the
        reader's language first. Never any other language, never a draft."""
        preference = models.Case(
            models.When(language=language, then=models.Value(0)),
            default=models.Value(1),
            output_field=models.IntegerField(),
        )
        return self.filter(language__in={language, languages.source()}).alias(preference=preference)

    def mark_waiting(self) -> int:
        """Mark these as waiting to be composed again (pages.snapshots): their stored
        renderings lose their key, so none is served until they are. Returns how many."""
        return self.update(needs_rebuild=True, html_key="")


class LiveSnapshot(models.Model):
    """What the public sees of one page in one language: built at publishing
    from a signed-off version, never from the working copy."""

    page = models.ForeignKey(Page, on_delete=models.PROTECT, related_name="snapshots")
    language = models.CharField(_("language"), max_length=10)
    path = models.CharField(max_length=500)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    # Everything the template shows, already rendered and sanitised:
    # sections, table of contents, glossary, breadcrumbs, related and child pages.
    content = models.JSONField(default=dict)
    # The approved wording the content was built from, kept so that the content can
    # be rebuilt when a linked page moves or is withdrawn without touching the text.
    source = models.JSONField(default=dict)
    languages = models.JSONField(default=list, help_text="Languages in which this page is live.")
    # The whole public page for readers of this language, rendered when the snapshot
    # was written, and the key of what it was rendered with (see pages.rendering).
    html = models.TextField(blank=True, editable=False)
    html_key = models.CharField(max_length=32, blank=True, editable=False)
    # For the source language's version: the page as readers of each other language get it
    # while that language has no live version of its own (language code -> HTML), same key.
    fallback_html = models.JSONField(default=dict, blank=True, editable=False)
    # The page's words as plain text (headings, sections, glossary), for the public search.
    text = models.TextField(blank=True, editable=False)
    # On PostgreSQL, the search document of title, summary and text (weighted in that order, in
    # the language's configuration), written with them and GIN-indexed (pages.search).
    search_document = SearchVectorField(null=True, editable=False)
    # Waiting to be composed again: a page it shows was published, withdrawn or moved while
    # more than DEPENDENTS_REBUILT_AT_ONCE others showed it too (pages.snapshots). Its stored
    # rendering carries no key meanwhile, so readers get it composed on each request.
    needs_rebuild = models.BooleanField(default=False, editable=False)
    last_reviewed = models.DateField(_("last reviewed"))
    next_review_due = models.DateField(_("next review due"))
    signed_off_by = models.CharField(_("signed off by"), max_length=200)
    published_at = models.DateTimeField(_("published"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revision = models.ForeignKey(
        "PageRevision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The revision of the page this wording was published from.",
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("reason for withdrawal"), blank=True)
    # The language the reason is written in: the source language's where none was given in this one.
    withdrawal_reason_language = models.CharField(_("language of the reason"), max_length=10, blank=True)
    references = models.ManyToManyField(Page, blank=True, related_name="referencing_snapshots")

    objects = LiveSnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("live version")
        verbose_name_plural = _("live versions")
        constraints = [models.UniqueConstraint(fields=["page", "language"], name="one_live_version_per_language")]
        indexes = [
            models.Index(fields=["path", "language"]),
            models.Index(fields=["next_review_due"]),
            models.Index(fields=["id"], condition=models.Q(needs_rebuild=True), name="snapshot_waiting_rebuild"),
            # The newest publish date of what is live (the sitemap index's lastmod) is this
            # index's last entry, and its count needs no visit to the table.
            models.Index(
                fields=["published_at"], condition=models.Q(withdrawn_at__isnull=True), name="snapshot_live_published"
            ),
        ]

    def __str__(self):
        return f"{self.path} [{self.language}]"


class Redirect(models.Model):
    """An address a public page had before it moved. It answers 301 to wherever the page
    is now (its live address is looked up each time, so a redirect never chains or loops),
    or 410 Gone when the page is withdrawn. Written only by ``pages.moves``."""

    old_path = models.CharField(_("old address"), max_length=500, unique=True)
    page = models.ForeignKey(Page, verbose_name=_("page"), on_delete=models.CASCADE, related_name="redirects")
    created_at = models.DateTimeField(_("moved"), auto_now_add=True)

    class Meta:
        verbose_name = _("redirect")
        verbose_name_plural = _("redirects")
        ordering = ["old_path"]

    def __str__(self):
        return f"/{self.old_path}/"


class LiveSite(models.Model):
    """The count of changes to the live site that have committed: one row, counted up in
    each change's own transaction (``publishing.lock_live_site``, which also makes it the
    lock that puts those changes one after another). The public cache announces each
    count; an app server that finds one never announced announces it (``pages.cache``)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    changes = models.PositiveBigIntegerField(_("changes"), default=0)

    class Meta:
        verbose_name = _("live site")
        verbose_name_plural = _("live site")

    def __str__(self):
        return f"{self.changes} changes"


class PageRevisionQuerySet(models.QuerySet):
    def latest_for(self, page: "Page | int") -> "PageRevision | None":
        """The page's highest-numbered revision, or None if it has none."""
        return self.filter(page=page).order_by("-number").first()


class PageRevision(models.Model):
    """One revision of one page (the page and all its sections, every language),
    numbered per page. Written for every revision that holds the page; never changed."""

    revision = models.ForeignKey("reversion.Revision", on_delete=models.PROTECT, related_name="page_revisions")
    # Not a constraint: the history of a deleted page stays, so that it can be recovered.
    page = models.ForeignKey(Page, on_delete=models.DO_NOTHING, db_constraint=False, related_name="revisions")
    number = models.PositiveIntegerField(_("revision"))
    languages = models.JSONField(_("languages changed"), default=list)
    structure_changed = models.BooleanField(
        _("structure changed"), default=False, help_text=_("Address, place, owner, related pages or sections moved.")
    )
    # Of those, what readers of every language would see once it is published (not a move,
    # which is public at once, nor a new owner, which readers never see).
    every_language_changed = models.BooleanField(
        _("changed for every language"),
        default=False,
        help_text=_("Sections added, removed or reordered, related pages or the sample-content mark changed."),
    )

    objects = PageRevisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("page revision")
        verbose_name_plural = _("page revisions")
        ordering = ["page", "-number"]
        constraints = [models.UniqueConstraint(fields=["page", "number"], name="one_number_per_page_revision")]

    def __str__(self):
        return f"{self.page_id} #{self.number}"


class Publication(models.Model):
    """A page going live in one language: an append-only log, kept when the live
    snapshot is replaced by a newer one."""

    page = models.ForeignKey(Page, on_delete=models.DO_NOTHING, db_constraint=False, related_name="publications")
    language = models.CharField(_("language"), max_length=10)
    revision = models.ForeignKey(PageRevision, null=True, on_delete=models.PROTECT, related_name="publications")
    published_at = models.DateTimeField(_("published"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_off_by = models.CharField(_("signed off by"), max_length=200)
    last_reviewed = models.DateField(_("last reviewed"))
    next_review_due = models.DateField(_("next review due"))

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        ordering = ["-published_at"]

    def __str__(self):
        return f"{self.page_id} [{self.language}] {self.published_at:%Y-%m-%d}"
