"""The workflow's reads: the four-eyes rule, who is waiting for whom, each language's
state, what can be submitted, which reviews fall due, and who wrote what since a
version was live. Services write; the admin, the e-mails and the reminders read here."""

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, CharField, Count, Exists, Max, OuterRef, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from pages import history, publishing
from pages import languages as site_languages
from pages.errors import PublishingError
from pages.models import LiveSnapshot, Page, PageRevision, Publication
from pages.people import display_name
from review.models import OPEN_STATES, ReviewRequest, State, Transition

# The four-eyes rule: nobody signs off wording they wrote. --------------------------


def is_author(user: AbstractBaseUser, request: ReviewRequest) -> bool:
    """Whether ``user`` wrote changes in the version ``request`` asks to sign off (no query
    when its authors were prefetched)."""
    return any(author.pk == user.pk for author in request.authors.all())


def not_written_by(user: AbstractBaseUser) -> Q:
    """Requests ``user`` wrote nothing in: the only ones they may sign off."""
    return ~Q(authors=user)


def reviewers_for(request: ReviewRequest, reviewers: QuerySet) -> QuerySet:
    """Of ``reviewers``, those who may sign off ``request``."""
    return reviewers.exclude(pk__in=request.authors.values("pk"))


def waiting_for(user: AbstractBaseUser) -> dict[str, Q]:
    """The open requests waiting for ``user``, by what they may do with them: sign off what
    they did not write, publish what is approved, change what was sent back to them."""
    waiting = {}
    if user.has_perm("review.sign_off"):
        waiting["to_sign_off"] = Q(state=State.IN_REVIEW) & not_written_by(user)
    if user.has_perm("review.publish"):
        waiting["to_publish"] = Q(state=State.APPROVED)
    if user.has_perm("review.submit_for_review"):
        authored = ReviewRequest.authors.through.objects.filter(user=user).values("reviewrequest_id")
        waiting["changes_requested"] = Q(state=State.CHANGES_REQUESTED) & (Q(submitted_by=user) | Q(pk__in=authored))
    return waiting


def my_queue(user: AbstractBaseUser) -> QuerySet:
    """The open requests waiting for ``user`` to act."""
    waiting = Q(pk__in=[])
    for kind in waiting_for(user).values():
        waiting |= kind
    return ReviewRequest.objects.filter(waiting)


# Each language's state. ------------------------------------------------------------


def language_states(page: Page) -> dict[str, str]:
    """Each language's state, for people: its open request's, else draft, withdrawn, live,
    or live with a newer draft. ``page`` comes with its open requests (``open_requests``),
    its snapshots and their revisions, and ``changed_since_live`` (the page list's query)."""
    requests = {r.language: r for r in page.open_requests}
    snapshots = {s.language: s for s in page.snapshots.all()}
    states = {}
    for code in site_languages.codes():
        snapshot = snapshots.get(code)
        if code in requests:
            states[code] = requests[code].get_state_display()
        elif snapshot is None:
            states[code] = _("draft")
        elif snapshot.withdrawn_at:
            states[code] = _("withdrawn")
        elif code in page.changed_since_live:
            states[code] = _("live, with a newer draft")
        else:
            states[code] = _("live")
    return states


def languages_changed_since_live(live_numbers: dict[int, dict[str, int]]) -> dict[int, set[str]]:
    """For each page (its id, and the number of the revision live in each language): the
    languages whose wording a later revision changed, or all of them when one changed what every
    language's readers see (its sections or related pages; not a move or a new owner); and every
    language not live. One query, for the revisions after the oldest live one of each page."""
    newer = Q(pk__in=[])
    for page_id, numbers in live_numbers.items():
        newer |= Q(page_id=page_id, number__gt=min(numbers.values(), default=0))
    changes: dict[int, list] = {page_id: [] for page_id in live_numbers}
    if live_numbers:
        for page_id, number, changed, structure in PageRevision.objects.filter(newer).values_list(
            "page_id", "number", "languages", "every_language_changed"
        ):
            changes[page_id].append((number, changed, structure))
    return {
        page_id: {
            code
            for code in site_languages.codes()
            if code not in numbers
            or any(n > numbers[code] and (structure or code in changed) for n, changed, structure in changes[page_id])
        }
        for page_id, numbers in live_numbers.items()
    }


def wording_changed_since_live(revision: PageRevision, language: str, live: LiveSnapshot | None) -> bool:
    """Whether signing off ``revision`` in ``language`` would change what its readers see: the
    submission's own comparison (a move or a new owner changes no wording)."""
    if live is None:  # never live: changed once it has wording of its own
        return bool(history.page_state(revision).page.get(f"title_{language}"))
    try:
        return publishing.freeze_for_sign_off(revision, language) != live.source
    except PublishingError:  # the submission says why
        return True


def submission_refusal(revision: PageRevision, language: str, live: LiveSnapshot | None, open_requests) -> str | None:
    """Why ``revision`` cannot be submitted in ``language`` as things stand (``live``, the
    language's live version; ``open_requests``, its open requests), or None if it can.
    Whether its wording changed is for the submission itself to find out, between the two."""
    return not_newer_than_live(revision, language, live) or already_submitted(revision, language, open_requests)


def not_newer_than_live(revision: PageRevision, language: str, live: LiveSnapshot | None) -> str | None:
    if live is not None and live.revision is not None and live.revision.number >= revision.number:
        return _("Revision %(number)s is not newer than the live %(name)s version.") % {
            "number": revision.number,
            "name": site_languages.local_name(language),
        }
    return None


def already_submitted(revision: PageRevision, language: str, open_requests) -> str | None:
    if any(r.revision_id == revision.pk and r.state != State.CHANGES_REQUESTED for r in open_requests):
        return _("Revision %(number)s is already submitted in %(name)s.") % {
            "number": revision.number,
            "name": site_languages.local_name(language),
        }
    return None


# Reviews falling due. --------------------------------------------------------------

# The horizons, in days, the reviews-due screen and the page list group reviews by.
DUE_WITHIN_DAYS = (30, 60, 90)


def due_bucket(days: int) -> str:
    """ "overdue", or the first horizon (as text: "30", "60", "90") a review ``days`` away falls within."""
    if days < 0:
        return "overdue"
    return next(str(horizon) for horizon in DUE_WITHIN_DAYS if days <= horizon)


# Rows listed in each period of the reviews-due screen (the counts are of all of them).
REVIEWS_DUE_SHOWN = 100


def reviews_due(today: datetime.date) -> tuple[dict[str, dict], list[dict]]:
    """Live versions whose review is overdue or due within the last horizon: for each period,
    how many and the soonest ``REVIEWS_DUE_SHOWN`` of them; and counted by owner (most overdue
    first). A fixed number of queries, each bounded, however many are due."""
    keys = ["overdue", *map(str, DUE_WITHIN_DAYS)]
    starts = [None, today, *(today + datetime.timedelta(days + 1) for days in DUE_WITHIN_DAYS[:-1])]
    ends = [today - datetime.timedelta(1), *(today + datetime.timedelta(days) for days in DUE_WITHIN_DAYS)]
    periods = dict(zip(keys, zip(starts, ends, strict=True), strict=True))
    live = LiveSnapshot.objects.live()
    period = Case(
        *(When(next_review_due__lte=end, then=Value(key)) for key, (_start, end) in periods.items()),
        default=Value(""),
        output_field=CharField(),
    )
    owner_fields = [f"page__owner__{name}" for name in ("pk", *NAME_FIELDS)]
    counted = (
        live.filter(next_review_due__lte=ends[-1])
        .annotate(period=period)
        .values("period", "language", *owner_fields)
        .annotate(count=Count("pk"))
        .order_by()
    )
    buckets = {key: {"count": 0, "rows": []} for key in keys}
    by_owner: dict[str, dict] = {}
    for row in counted:
        owner = row["page__owner__pk"]
        fields = {name: row[f"page__owner__{name}"] for name in NAME_FIELDS}
        name = display_name(get_user_model()(pk=owner, **fields)) if owner else _("no owner")
        buckets[row["period"]]["count"] += row["count"]
        counts = by_owner.setdefault(name, dict.fromkeys(keys, 0) | {"languages": set()})
        counts[row["period"]] += row["count"]
        counts["languages"].add(row["language"])
    for key, (start, end) in periods.items():
        rows = live.filter(next_review_due__lte=end, **({"next_review_due__gte": start} if start else {}))
        rows = (
            rows.select_related("page__owner")
            .only("page_id", "language", "path", "next_review_due", *(f"page__owner__{f}" for f in NAME_FIELDS))
            .order_by("next_review_due", "path", "language")[:REVIEWS_DUE_SHOWN]
        )
        for snapshot in rows:
            days = (snapshot.next_review_due - today).days
            owner = snapshot.page.owner
            name = display_name(owner) if owner else _("no owner")
            buckets[key]["rows"].append({"snapshot": snapshot, "owner": name, "days": days, "overdue_days": -days})
    owners = sorted(
        ({"name": name, **row, "languages": sorted(row["languages"])} for name, row in by_owner.items()),
        key=lambda row: (-row["overdue"], row["name"]),
    )
    return buckets, owners


NAME_FIELDS = ("first_name", "last_name", "username")


# Who wrote what, and what is live. --------------------------------------------------


def live_version(page_id: int, language: str) -> LiveSnapshot | None:
    return LiveSnapshot.objects.filter(page_id=page_id, language=language).live().select_related("revision").first()


def last_published_number(page_id: int, language: str) -> int:
    """The revision number last published in ``language`` (0 if never)."""
    publication = (
        Publication.objects.filter(page_id=page_id, language=language, revision__isnull=False)
        .select_related("revision")
        .order_by("-published_at", "-pk")
        .first()
    )
    return publication.revision.number if publication else 0


def authors_since_live(page_revision: PageRevision, language: str) -> set[int]:
    """The people who wrote changes to ``language`` (or to the page's structure)
    between the last published version in that language and ``page_revision``."""
    since = last_published_number(page_revision.page_id, language)
    rows = PageRevision.objects.filter(
        page_id=page_revision.page_id, number__gt=since, number__lte=page_revision.number
    ).values_list("languages", "structure_changed", "revision__user_id")
    return {user_id for changed, structural, user_id in rows if user_id and (language in changed or structural)}


def live_authors(snapshot: LiveSnapshot) -> set[int]:
    """The people who wrote the changes the live version ``snapshot`` brought (those its
    reviewer could not be): the authors of the sign-off that put it live."""
    published = (
        ReviewRequest.objects.filter(
            page_id=snapshot.page_id, language=snapshot.language, revision=snapshot.revision, state=State.PUBLISHED
        )
        .order_by("-published_at", "-pk")
        .first()
    )
    if published is not None:
        return set(published.authors.values_list("pk", flat=True))
    # Published before sign-offs were recorded: everyone who ever wrote this language.
    rows = PageRevision.objects.filter(page_id=snapshot.page_id, number__lte=snapshot.revision.number).values_list(
        "languages", "structure_changed", "revision__user_id"
    )
    return {
        user_id for changed, structural, user_id in rows if user_id and (snapshot.language in changed or structural)
    }


def last_withdrawn_at(page_id: int) -> datetime.datetime | None:
    """When ``page`` was last withdrawn (a recall), if ever."""
    return Transition.objects.filter(page_id=page_id, action=Transition.Action.WITHDRAW).aggregate(at=Max("at"))["at"]


def open_requests(page: Page) -> QuerySet:
    return ReviewRequest.objects.filter(page=page, state__in=OPEN_STATES)


def sign_offs_by_revision(revision_ids: list[int]) -> dict[int, list[ReviewRequest]]:
    """The review requests of each of these page revisions (re-confirmations aside), oldest first."""
    reviews = {}
    requests = ReviewRequest.objects.filter(revision__in=revision_ids, is_reconfirmation=False)
    for review in requests.select_related("approved_by").order_by("submitted_at", "pk"):
        reviews.setdefault(review.revision_id, []).append(review)
    return reviews


# Each person's work inbox (the admin's front page). --------------------------------

INBOX_ROWS = 20  # of each kind; the page list's filters hold the rest


@dataclass
class Inbox:
    """What waits for one person, each list the oldest (or soonest due) first, at most
    INBOX_ROWS long, with whether there are more."""

    to_sign_off: list[ReviewRequest]
    to_publish: list[ReviewRequest]
    changes_requested: list[ReviewRequest]
    not_submitted: list[PageRevision]
    reviews_due: list[LiveSnapshot]
    more: set[str]

    def is_empty(self) -> bool:
        return not (
            self.to_sign_off or self.to_publish or self.changes_requested or self.not_submitted or self.reviews_due
        )


def inbox(user: AbstractBaseUser, today: datetime.date) -> Inbox:
    """For ``user``: the versions they may sign off; the approved ones they may publish; their
    changes a reviewer sent back; their latest edits of a page that nobody has submitted yet;
    and the live versions of the pages they own whose review is overdue or due within the first
    horizon. One query for each list they may act on, however large the site."""
    requests = ReviewRequest.objects.select_related("page", "revision", "submitted_by", "approved_by")
    lists: dict[str, list] = {}
    order = {"to_sign_off": "submitted_at", "to_publish": "approved_at", "changes_requested": "submitted_at"}
    for kind, waiting in waiting_for(user).items():
        lists[kind] = list(requests.filter(waiting).order_by(order[kind], "pk")[: INBOX_ROWS + 1])
    if user.has_perm("review.submit_for_review"):
        newer = PageRevision.objects.filter(page=OuterRef("page"), number__gt=OuterRef("number"))
        submitted = ReviewRequest.objects.filter(revision=OuterRef("pk"))
        drafts = (
            PageRevision.objects.filter(revision__user=user)
            .exclude(Exists(newer))
            .exclude(Exists(submitted))
            .select_related("page", "revision")
            .order_by("revision__date_created", "pk")
        )
        lists["not_submitted"] = list(drafts[: INBOX_ROWS + 1])
    horizon = today + datetime.timedelta(days=DUE_WITHIN_DAYS[0])
    due = (
        LiveSnapshot.objects.live()
        .filter(page__owner=user, next_review_due__lte=horizon)
        .select_related("page")
        .order_by("next_review_due", "pk")
    )
    lists["reviews_due"] = list(due[: INBOX_ROWS + 1])
    more = {name for name, rows in lists.items() if len(rows) > INBOX_ROWS}
    return Inbox(
        to_sign_off=lists.get("to_sign_off", [])[:INBOX_ROWS],
        to_publish=lists.get("to_publish", [])[:INBOX_ROWS],
        changes_requested=lists.get("changes_requested", [])[:INBOX_ROWS],
        not_submitted=lists.get("not_submitted", [])[:INBOX_ROWS],
        reviews_due=lists["reviews_due"][:INBOX_ROWS],
        more=more,
    )
