"""A site of national size, for measuring (``manage.py make_scale_content``).

Pages in a tree of hubs with hundreds of children, each with sections varied from the
demo glucagonoma page, glossary terms, links to other pages and related pages, several
revisions, and a live version in each chosen language that went through the workflow:
submitted by an editor, signed off by a clinical reviewer, published by a publisher.

The rows are the workflow's own: revisions and their versions as django-reversion
writes them (numbered by ``pages.history``'s rules), review requests and their log,
publications, and snapshots frozen by ``pages.freezing`` and built by
``pages.snapshots``. Only the way they are written differs: in bulk, a batch of pages
per transaction (each batch one change to the live site), so that 50,000 live versions
take minutes, not hours. ``tests/review/test_scale.py`` checks the rows against the
ones the workflow writes.
"""

import datetime
import json
import math
import multiprocessing
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, connections, transaction
from django.utils import timezone
from reversion.models import Revision, Version
from reversion.revisions import _get_options

from pages import history, publishing, rendering, search
from pages import languages as site_languages
from pages.history import PageState
from pages.models import LiveSnapshot, Page, PageRevision, Publication, Section
from pages.people import display_name
from review import roles, services
from review.dates import add_months
from review.models import ReviewRequest, State, Transition

DEMO_FILE = Path(__file__).resolve().parent / "demo" / "content.json"
# The pages' sections are drawn from this demo page's.
MODEL_PAGE = "neuroendocrine-cancer/pancreatic-neuroendocrine-tumours/glucagonoma"
PREFIX = "scale-"  # every hub's slug, so that a second run adds to the first
CHILDREN_PER_HUB = 250
MOST_PAGES = 200_000
SECTIONS_PER_PAGE = 4
REVISIONS = 3  # per page; the live one is the last, or for every tenth page the one before
ACCOUNTS = [
    ("scale-editor", "Scale Editor", "Editor"),
    ("scale-reviewer", "Scale Reviewer", "Clinical reviewer"),
    ("scale-publisher", "Scale Publisher", "Publisher"),
]
TERMS = [
    ("glucagon", "A hormone that raises the level of sugar in the blood."),
    ("insulin", "A hormone that lowers the level of sugar in the blood."),
    ("biopsy", "Taking a small sample of tissue to look at under a microscope."),
    ("somatostatin-analogue", "A medicine that slows the release of hormones."),
    ("metastasis", "Cancer that has spread from where it started."),
    ("endoscopy", "Looking inside the body with a thin, flexible tube with a camera."),
]
LOCAL_WORDS = {"en": ("Condition", "Topic"), "cy": ("Cyflwr", "Pwnc"), "ar": ("الحالة", "الموضوع")}


@dataclass
class Planned:
    """One page to make: its place in the tree and its words, before it has an id."""

    index: int  # in the whole scale site, from 0
    slug: str
    parent: "Planned | None"
    depth: int
    title: dict[str, str]
    summary: dict[str, str]
    sections: list[dict] = field(default_factory=list)
    links: list["Planned"] = field(default_factory=list)
    related: list["Planned"] = field(default_factory=list)
    page: Page | None = None
    # One live page in ten has a newer revision waiting for review.
    has_waiting_edit: bool = False

    @property
    def path(self) -> str:
        return f"{self.parent.path}/{self.slug}" if self.parent else self.slug


def existing_pages() -> int:
    return Page.objects.filter(path__startswith=PREFIX).count()


def section_pool() -> list[dict]:
    """The demo page's sections, without links to the demo pages (each made page links its own)."""
    data = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    (model,) = [entry for entry in data["pages"] if entry["path"] == MODEL_PAGE]
    unlink = re.compile(r'<a href="/[^"]*">(.*?)</a>', re.DOTALL)
    return [
        {
            "heading": section["heading"],
            "body": {code: unlink.sub(r"\1", text) for code, text in section["body"].items()},
        }
        for section in model["sections"]
    ]


def plan(
    count: int, start: int, language_codes: list[str], batch: int, hub_size: int = CHILDREN_PER_HUB
) -> list[Planned]:
    """``count`` pages after the ``start`` that exist: hubs first, then their pages and sub-pages.
    A page links only to pages of its own batch (and its hub), so that batches after the
    hubs' can be written side by side."""
    pool = section_pool()
    hubs = max(1, math.ceil(count / hub_size))
    first_hub = Page.objects.filter(parent__isnull=True, path__startswith=PREFIX).count()
    planned: list[Planned] = []
    for offset in range(count):
        index = start + offset
        if offset < hubs:
            number, parent, depth, kind = first_hub + offset + 1, None, 0, 1
            slug = f"{PREFIX}{number}"
        else:
            k = offset - hubs
            hub = planned[(k // 4) % hubs]
            # Every fourth page is a sub-page of the one before it, in the same hub.
            batch_start = max(hubs, offset - offset % batch)
            parent = planned[offset - 1] if k % 4 == 3 and offset - 1 >= batch_start else hub
            number, depth, kind = index, parent.depth + 1, 0
            slug = f"page-{index}"
        words = {code: LOCAL_WORDS.get(code, LOCAL_WORDS["en"]) for code in language_codes}
        page = Planned(
            index=index,
            slug=slug,
            parent=parent,
            depth=depth,
            title={code: f"{names[kind]} {number}" for code, names in words.items()},
            summary={
                code: f"{names[kind]} {number}: {pool[index % len(pool)]['heading'].get(code, '')}".strip()
                for code, names in words.items()
            },
            has_waiting_edit=index % 10 == 9,
        )
        batch_start = max(hubs, offset - offset % batch)
        page.links = [planned[at] for at in (offset - 5, offset - 11) if at >= batch_start and offset >= hubs]
        page.related = [planned[at] for at in (offset - 4, offset - 8) if at >= batch_start and offset >= hubs]
        page.sections = _sections(page, pool, language_codes)
        planned.append(page)
    return planned


def _sections(page: Planned, pool: list[dict], language_codes: list[str]) -> list[dict]:
    chosen = [pool[(page.index + step * 3) % len(pool)] for step in range(SECTIONS_PER_PAGE)]
    term, definition = TERMS[page.index % len(TERMS)]
    sections = []
    for position, section in enumerate(chosen):
        heading = {code: text for code, text in section["heading"].items() if code in language_codes}
        body = {code: text for code, text in section["body"].items() if code in language_codes}
        if position == 0:
            # A word of its own (for finding it), a glossary term, and links to earlier pages.
            shown = term.replace("-", " ")
            extra = [
                f"Leaflet code px{page.index:06d}.",
                f'About <a href="term:{term}" title="{definition}">{shown}</a>.',
            ]
            extra += [f'See <a href="{{link{n}}}">{linked.title["en"]}</a>.' for n, linked in enumerate(page.links)]
            body["en"] = body.get("en", "") + f"<p>{' '.join(extra)}</p>"
        sections.append({"position": position, "heading": heading, "body": body})
    return sections


def _body_at(section: dict, code: str, page: Planned, revision: int) -> str:
    """A section's body in ``code`` as revision ``revision`` holds it (each revision changes the first)."""
    text = section["body"].get(code, "")
    for n, linked in enumerate(page.links):
        text = text.replace(f"{{link{n}}}", f"page:{linked.page.pk}")
    if text and section["position"] == 0 and revision < REVISIONS:
        text = f"<p>Draft {revision} of this page.</p>{text}"
    return text


@dataclass
class Accounts:
    editor: object
    reviewer: object
    publisher: object


def accounts() -> Accounts:
    """The editor, reviewer and publisher the pages were written, signed off and published by:
    accounts no one can sign in with (with an address, for the reminders)."""
    return Accounts(
        *(
            roles.sample_account(username, *name.split(), role, email=f"{username}@example.org")
            for username, name, role in ACCOUNTS
        )
    )


def make(
    *,
    pages: int,
    language_codes: list[str],
    batch: int = 500,
    workers: int = 1,
    hub_size: int = CHILDREN_PER_HUB,
    report: Callable[[int, int], None] = lambda done, live: None,
) -> tuple[int, int]:
    """Add ``pages`` pages to the site, live in ``language_codes`` (the source language first);
    returns the pages and live versions made, with a hub for every ``hub_size`` pages.
    ``report`` hears after each batch."""
    source = site_languages.source()
    language_codes = sorted(dict.fromkeys(language_codes), key=lambda code: code != source)
    people = accounts()
    planned = plan(pages, existing_pages(), language_codes, batch, hub_size)
    batches = list(_batches(planned, batch))
    # The batches holding the hubs first, alone: every later one hangs pages from them.
    first = math.ceil(sum(1 for p in planned if p.parent is None) / batch)
    done = live = 0
    for chunk in batches[:first]:
        live += _make_batch(chunk, language_codes, people)
        done += len(chunk)
        report(done, live)
    rest = batches[first:]
    if workers > 1 and len(rest) > 1 and connection.vendor == "postgresql":
        global _work
        _work = (rest, language_codes, people)
        connections.close_all()  # each process opens its own
        with warnings.catch_warnings():
            # The database's watchdog thread holds nothing the processes use.
            warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
            pool = multiprocessing.get_context("fork").Pool(min(workers, len(rest)))
        with pool:
            for made in pool.imap_unordered(_make_batch_number, range(len(rest))):
                done, live = done + made[0], live + made[1]
                report(done, live)
        return done, live
    for chunk in rest:
        live += _make_batch(chunk, language_codes, people)
        done += len(chunk)
        report(done, live)
    return done, live


_work: tuple = ()  # what the processes making batches side by side share


def _make_batch_number(number: int) -> tuple[int, int]:
    batches, language_codes, people = _work
    try:
        return len(batches[number]), _make_batch(batches[number], language_codes, people)
    finally:
        connections.close_all()


def _batches(planned: list[Planned], size: int) -> Iterator[list[Planned]]:
    for start in range(0, len(planned), size):
        yield planned[start : start + size]


@transaction.atomic
def _make_batch(chunk: list[Planned], language_codes: list[str], people: Accounts) -> int:
    """Make the pages of ``chunk`` live, in one transaction: one change to the live site."""
    now = timezone.now()
    _create_pages(chunk, people)
    revisions = _create_revisions(chunk, people, now)
    snapshots = _sign_off_and_publish(chunk, revisions, language_codes, people, now)
    _build(snapshots)
    # Under the live-site lock, taken last (so that batches are made side by side until
    # here): the hubs' child lists, with the pages of every batch committed before this one.
    publishing.rebuild_dependents([p.page for p in chunk], exclude={s.pk for s in snapshots})
    return len(snapshots)


def _create_pages(chunk: list[Planned], people: Accounts) -> None:
    for depth in sorted({p.depth for p in chunk}):
        level = [p for p in chunk if p.depth == depth]
        made = Page.objects.bulk_create(
            Page(
                parent=p.parent.page if p.parent else None,
                slug=p.slug,
                path=p.path,
                position=p.index,
                owner=people.editor,
                is_sample_content=True,
                **_translations("title", p.title),
                **_translations("summary", p.summary),
            )
            for p in level
        )
        for p, page in zip(level, made, strict=True):
            p.page = page
    Page.related.through.objects.bulk_create(
        Page.related.through(from_page_id=p.page.pk, to_page_id=other.page.pk) for p in chunk for other in p.related
    )
    sections = Section.objects.bulk_create(
        Section(
            page=p.page,
            position=s["position"],
            **_translations("heading", s["heading"]),
            **{f"body_{code}": _body_at(s, code, p, REVISIONS) for code in s["body"]},
            body=_body_at(s, site_languages.source(), p, REVISIONS),
        )
        for p in chunk
        for s in p.sections
    )
    by_page: dict[int, list[Section]] = {}
    for section in sections:
        by_page.setdefault(section.page_id, []).append(section)
    for p in chunk:
        p.page.made_sections = by_page[p.page.pk]


def _translations(name: str, values: dict[str, str]) -> dict[str, str]:
    return {name: values.get(site_languages.source(), ""), **{f"{name}_{code}": text for code, text in values.items()}}


def _create_revisions(chunk: list[Planned], people: Accounts, now) -> dict[int, list[tuple[PageRevision, PageState]]]:
    """Each page's revisions (oldest first) and what they hold, with the versions django-reversion
    would have saved."""
    page_type, section_type = ContentType.objects.get_for_models(Page, Section).values()
    dates = {p.index: [_written(p, number, now) for number in range(1, REVISIONS + 1)] for p in chunk}
    made = Revision.objects.bulk_create(
        Revision(date_created=dates[p.index][number - 1], user=people.editor, comment=_comment(number))
        for p in chunk
        for number in range(1, REVISIONS + 1)
    )
    versions, page_revisions, states = [], [], []
    rows = iter(made)
    for p in chunk:
        previous = None
        for number in range(1, REVISIONS + 1):
            revision = next(rows)
            related = [o.page.pk for o in p.related]
            held = [_version(p.page, page_type, revision, related=related)]
            for section, data in zip(p.page.made_sections, p.sections, strict=True):
                for code in data["body"]:
                    setattr(section, f"body_{code}", _body_at(data, code, p, number))
                held.append(_version(section, section_type, revision))
            state = PageState.from_objects(p.page, p.page.made_sections, related)
            versions += held
            page_revisions.append(
                PageRevision(
                    revision=revision,
                    page=p.page,
                    number=number,
                    languages=history.changed_languages(previous, state),
                    structure_changed=previous is None or history.structure_changed(previous, state),
                    every_language_changed=previous is None or history.every_language_changed(previous, state),
                )
            )
            states.append(state)
            previous = state
    Version.objects.bulk_create(versions)
    by_page: dict[int, list[tuple[PageRevision, PageState]]] = {}
    for page_revision, state in zip(PageRevision.objects.bulk_create(page_revisions), states, strict=True):
        by_page.setdefault(page_revision.page_id, []).append((page_revision, state))
    return by_page


def _comment(number: int) -> str:
    return "Created the page" if number == 1 else f"Revised the wording ({number})"


def _written(p: Planned, number: int, now) -> datetime.datetime:
    """When revision ``number`` was saved: before the live one's review, which is spread over
    the last 40 months (so some reviews are overdue and some fall due soon)."""
    reviewed = _reviewed(p, now.date())
    days_before = (REVISIONS - number + 1) * 3
    moment = datetime.datetime.combine(reviewed, datetime.time(9), tzinfo=datetime.UTC)
    return min(moment - datetime.timedelta(days=days_before), now - datetime.timedelta(minutes=REVISIONS - number + 1))


def _reviewed(p: Planned, today: datetime.date) -> datetime.date:
    return today - datetime.timedelta(days=(p.index * 433) % 1200)


def _version(obj, content_type: ContentType, revision: Revision, related: list[int] | None = None) -> Version:
    """The version django-reversion saves of ``obj`` (its serialisation, many-to-many ids given)."""
    options = _get_options(type(obj))
    many = {f.name for f in type(obj)._meta.many_to_many}
    local = [name for name in options.fields if name not in many]
    data = serializers.serialize("python", (obj,), fields=local)
    if many & set(options.fields):
        data[0]["fields"]["related"] = related or []
    return Version(
        revision=revision,
        object_id=str(obj.pk),
        content_type=content_type,
        db="default",
        format=options.format,
        serialized_data=json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False),
        object_repr=str(obj),
    )


def _sign_off_and_publish(chunk, revisions, language_codes, people, now) -> list[LiveSnapshot]:
    """For each page and language: a request submitted, approved and published, its log, its
    publication and its snapshot (not built yet); and for one page in ten, a newer revision submitted."""
    source = site_languages.source()
    signed_off_by = display_name(people.reviewer)
    requests, steps, publications, snapshots, waiting = [], [], [], [], []
    for p in chunk:
        all_revisions = revisions[p.page.pk]
        revision, state = all_revisions[-2] if p.has_waiting_edit else all_revisions[-1]
        reviewed = _reviewed(p, now.date())
        due = add_months(reviewed, p.page.review_interval_months)
        live_languages = [code for code in language_codes if p.title.get(code)]
        submitted = revision.revision.date_created + datetime.timedelta(hours=1)
        approved = min(datetime.datetime.combine(reviewed, datetime.time(10), tzinfo=datetime.UTC), now)
        published = min(approved + datetime.timedelta(hours=1), now)
        frozen = {}
        for code in live_languages:
            frozen[code] = publishing.freeze(state, code, fallback=frozen.get(source) if code != source else None)
            requests.append(
                ReviewRequest(
                    page=p.page,
                    language=code,
                    revision=revision,
                    state=State.PUBLISHED,
                    submitted_by=people.editor,
                    submitted_at=submitted,
                    approved_by=people.reviewer,
                    approved_at=approved,
                    last_reviewed=reviewed,
                    next_review_due=due,
                    wording=frozen[code],
                    published_by=people.publisher,
                    published_at=published,
                )
            )
            publications.append(
                Publication(
                    page=p.page,
                    language=code,
                    revision=revision,
                    published_at=published,
                    published_by=people.publisher,
                    signed_off_by=signed_off_by,
                    last_reviewed=reviewed,
                    next_review_due=due,
                )
            )
            snapshots.append(
                LiveSnapshot(
                    page=p.page,
                    language=code,
                    path=p.page.path,
                    title=frozen[code]["title"]["text"],
                    summary=frozen[code]["summary"]["text"],
                    source=frozen[code],
                    languages=live_languages,
                    last_reviewed=reviewed,
                    next_review_due=due,
                    signed_off_by=signed_off_by,
                    published_at=published,
                    published_by=people.publisher,
                    revision=revision,
                )
            )
        if p.has_waiting_edit:
            waiting.append(
                ReviewRequest(
                    page=p.page,
                    language=source,
                    revision=all_revisions[-1][0],
                    submitted_by=people.editor,
                    submitted_at=now,
                )
            )
    made = ReviewRequest.objects.bulk_create(requests + waiting)
    for request in made:
        steps += _steps(request, people)
    ReviewRequest.authors.through.objects.bulk_create(
        ReviewRequest.authors.through(reviewrequest_id=request.pk, user_id=people.editor.pk) for request in made
    )
    Transition.objects.bulk_create(steps)
    Publication.objects.bulk_create(publications)
    return LiveSnapshot.objects.bulk_create(snapshots)


def _steps(request: ReviewRequest, people: Accounts) -> list[Transition]:
    """The log of ``request``: submitted, then if published approved and published, as the workflow logs them."""
    if request.state != State.PUBLISHED:
        steps = [(Transition.Action.SUBMIT, services.LIVE, State.IN_REVIEW, people.editor, request.submitted_at)]
    else:
        steps = [
            (Transition.Action.SUBMIT, services.DRAFT, State.IN_REVIEW, people.editor, request.submitted_at),
            (Transition.Action.APPROVE, State.IN_REVIEW, State.APPROVED, people.reviewer, request.approved_at),
            (Transition.Action.PUBLISH, State.APPROVED, services.LIVE, people.publisher, request.published_at),
        ]
    return [
        Transition(
            page_id=request.page_id,
            request=request,
            revision=request.revision,
            languages=[request.language],
            action=action,
            from_state=from_state,
            to_state=to_state,
            user=user,
            at=at,
        )
        for action, from_state, to_state, user, at in steps
    ]


def _build(snapshots: list[LiveSnapshot]) -> None:
    """What ``pages.snapshots.build`` does for each, saved in bulk."""
    built = list(LiveSnapshot.objects.select_related("page").in_bulk([s.pk for s in snapshots]).values())
    references = []
    for snapshot in built:
        referenced = publishing.compose(snapshot)
        rendering.store(snapshot)
        references += [
            LiveSnapshot.references.through(livesnapshot_id=snapshot.pk, page_id=page_id) for page_id in referenced
        ]
    LiveSnapshot.objects.bulk_update(built, ["title", "summary", "content", *rendering.STORED_FIELDS], batch_size=100)
    LiveSnapshot.references.through.objects.bulk_create(references)
    search.write_documents([snapshot.pk for snapshot in built])
