"""The sign-off workflow as a property: whatever people do, in whatever order, each
public page shows exactly the wording last approved and published in its language,
and never a word nobody approved.

Random editors write fresh tokens (``tok17``) into two pages (a topic and a page
under it) in three languages; random people, with or without the right role,
submit, approve, send back, publish, re-confirm, withdraw, and move or rename the
pages. A model of the working copy, its revisions, the requests and the tree
predicts what each step must do or why it must be refused; a refused step must
change nothing. After every step the review requests, the live snapshots, their
addresses and what they render are checked against the model, and now and then so
are the public pages themselves, old addresses included, read through this app
server and through another one (another process's memory of pages). Some publishes
come from a process that cannot reach the cache and then exits, never announcing
them: once the servers have compared the database with the cache (as each does
every PUBLIC_CACHE_VERIFY_SECONDS), the pages must show them all the same. In most
runs the pages that show a published page are composed again only some at once (or none,
DEPENDENTS_REBUILT_AT_ONCE), the rest waiting for a rebuild that is another step: in
between, they must show the same as if they had been rebuilt.
"""

import copy
import datetime
import itertools
import re
import xml.etree.ElementTree as ElementTree
from contextlib import nullcontext
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Max
from django.test import Client, override_settings
from django.utils import timezone, translation
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from pages import cache, history, publishing, snapshots
from pages.models import LiveSnapshot, Page, PageRevision, Publication, Redirect, Section
from review import roles, scheduling, services
from review.models import Notification, ReviewRequest, ScheduledStep, State, Transition
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SOURCE = "en"
LANGUAGES = ("en", "cy", "ar")
TOKEN = re.compile(r"tok\d+")
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
LINK_LISTS = ("breadcrumbs", "children", "related")

# Everyone the workflow meets, by their roles: two editors, a reviewer, someone who
# is both (the four-eyes rule matters most for them), a publisher, and staff with no role.
PEOPLE = {
    "editor": (roles.EDITOR,),
    "second_editor": (roles.EDITOR,),
    "reviewer": (roles.CLINICAL_REVIEWER,),
    "editor_reviewer": (roles.EDITOR, roles.CLINICAL_REVIEWER),
    "publisher": (roles.PUBLISHER,),
    "staff": (),
}
# The role that grants each permission (review/migrations/0003_workflow_permissions.py).
GRANTED_BY = {
    "submit_for_review": roles.EDITOR,
    "change_page": roles.EDITOR,
    "sign_off": roles.CLINICAL_REVIEWER,
    "publish": roles.PUBLISHER,
    "withdraw": roles.PUBLISHER,
}
EDITORS = [name for name, held in PEOPLE.items() if roles.EDITOR in held]
OPEN = (State.IN_REVIEW, State.CHANGES_REQUESTED, State.APPROVED)
# A Redis nothing listens on: connecting to it is refused at once.
UNREACHABLE_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}


def may(person: str, permission: str) -> bool:
    return GRANTED_BY[permission] in PEOPLE[person]


@dataclass
class Draft:
    """A page's working copy in every language, as the model sees it ("" where untranslated)."""

    title: dict[str, str]
    summary: dict[str, str]
    sections: dict[int, dict] = field(default_factory=dict)  # pk -> position, heading and body by language

    def ordered(self) -> list[tuple[int, dict]]:
        return sorted(self.sections.items(), key=lambda item: (item[1]["position"], item[0]))

    def texts(self, language: str) -> dict:
        texts = {"title": self.title[language], "summary": self.summary[language]}
        for pk, section in self.sections.items():
            texts[pk, "heading"] = section["heading"][language]
            texts[pk, "body"] = section["body"][language]
        return texts

    def tokens(self, language: str) -> set[str]:
        return set(TOKEN.findall(" ".join(self.texts(language).values())))


def changed_languages(old: Draft, new: Draft) -> set[str]:
    """The languages whose wording differs; a section that is missing counts as empty."""
    changed = set()
    for language in LANGUAGES:
        before, after = old.texts(language), new.texts(language)
        if any(before.get(key, "") != after.get(key, "") for key in before | after):
            changed.add(language)
    return changed


def frozen(draft: Draft, language: str, fallback: dict | None) -> dict | None:
    """What signing off ``draft`` in ``language`` must freeze, with ``fallback`` (the live
    source-language wording) for untranslated parts; None when it cannot be signed off."""

    def part(text: str) -> dict | None:
        return {"text": text, "lang": language} if text.strip() else None

    empty = {"text": "", "lang": language}
    title = part(draft.title[language])
    if title is None:
        return None
    approved = {section["id"]: section for section in (fallback or {}).get("sections", [])}
    sections = []
    for pk, section in draft.ordered():
        heading = part(section["heading"][language]) or approved.get(pk, {}).get("heading")
        if heading is None:
            return None
        body = part(section["body"][language]) or approved.get(pk, {}).get("body") or empty
        sections.append({"id": pk, "heading": heading, "body": body})
    return {
        "title": title,
        "summary": part(draft.summary[language]) or (fallback or {}).get("summary") or empty,
        "sections": sections,
        "related": [],
        "is_sample_content": False,
    }


def wording_parts(wording: dict) -> list[dict]:
    return [wording["title"], wording["summary"]] + [
        s[name] for s in wording["sections"] for name in ("heading", "body")
    ]


def wording_tokens(wording: dict) -> set[str]:
    return set(TOKEN.findall(" ".join(part["text"] for part in wording_parts(wording))))


@dataclass
class Revision:
    author: str | None
    draft: Draft
    languages: set[str]
    structure_changed: bool


@dataclass
class Live:
    wording: dict
    revision: int
    authors: set[str]  # who wrote the changes it brought: none of them may re-confirm it
    approved_by: str | None
    withdrawn: bool = False


@dataclass
class PageModel:
    page: Page
    draft: Draft
    revisions: dict[int, Revision] = field(default_factory=dict)
    live: dict[str, Live] = field(default_factory=dict)  # every snapshot, withdrawn or not
    last_published: dict[str, int] = field(default_factory=dict)  # language -> revision number
    slug: str = ""
    old_paths: set[str] = field(default_factory=set)  # addresses it had while it had a snapshot

    def live_in(self, language: str) -> Live | None:
        live = self.live.get(language)
        return live if live is not None and not live.withdrawn else None


@dataclass
class Request:
    page: int  # index into the machine's pages
    language: str
    revision: int
    state: str
    authors: set[str]
    approved_by: str | None = None
    wording: dict | None = None


# Hypothesis would switch whole rules off at random in most runs ("swarm testing"), and
# the failures that matter need edits, reviews and publishing interleaved in one run; so
# the machine has one rule, and each step draws who does what from the steps possible now.
STEPS = {
    # name: weight
    "edit_wording": 3,
    "change_sections": 1,
    "submit": 2,
    "review": 2,
    "publish": 2,
    "publish_unannounced": 2,
    "reconfirm": 1,
    "withdraw": 1,
    "move": 1,
    "act_out_of_turn": 2,
    "read_public_pages": 1,
    "rebuild_waiting": 1,
    "schedule": 2,
    "cancel_scheduled": 1,
    "run_scheduled": 2,
}
# How far ahead the machine schedules steps, and how far the frequent job's clock is
# ahead when it runs: every waiting step is due whenever the job runs.
SCHEDULE_AHEAD = datetime.timedelta(minutes=1)
JOB_AHEAD = datetime.timedelta(minutes=2)


@dataclass
class Scheduled:
    """A step waiting for its time, as the model expects the database to hold it."""

    action: str  # "publish" or "withdraw"
    person: str
    page: int
    request: int | None = None


@settings(max_examples=50, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
class SignOffWorkflow(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint_create()
        # Each example starts afresh; the database rolls back, the cache of public pages must be emptied.
        cache.clear()
        self.counter = itertools.count()
        self.client = Client()
        # Another app server: its own memory of pages, and a clock this machine moves on.
        self.elsewhere_clock = 0.0
        self.elsewhere = cache.Process(clock=lambda: self.elsewhere_clock)
        # No password: hashing one per person per example would take most of the run.
        self.users = {
            name: UserFactory(username=name, roles=list(held), password=None) for name, held in PEOPLE.items()
        }
        self.writer: dict[str, str | None] = {}  # token -> who wrote it
        self.approved: dict[str, set[str]] = {code: set() for code in LANGUAGES}  # tokens signed off, by language
        self.requests: dict[int, Request] = {}
        self.scheduled: dict[int, Scheduled] = {}  # waiting steps, by primary key
        self.cancelled_by_recall: set[int] = set()
        self.withdrawn = False
        self.unannounced = False  # a change to the live site nobody announced since the pages were last read
        self.last_transition = Transition.objects.aggregate(last=Max("pk"))["last"] or 0
        topic = self.create_page(slug="insulin", parent=None)
        self.pages = [topic, self.create_page(slug="dosing", parent=topic.page)]

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)
        self.rebuilt_at_once.disable()

    @initialize(
        start=st.sampled_from(
            [(), ((0, "en"),), ((0, "en"), (1, "en")), ((0, "en"), (0, "cy")), ((0, "en"), (0, "cy"), (1, "en"))]
        ),
        author=st.sampled_from([None, "editor_reviewer"]),
        at_once=st.sampled_from([0, 1, 100]),
    )
    def start_with_live_pages(self, start, author, at_once):
        """Most runs start with pages through the workflow in English, some in Welsh too
        (whose untranslated section falls back on the English just published); in half of
        them, what goes live was last written by someone who is also a reviewer. Publishing
        composes again at once none, one or all of the pages that show what it published."""
        self.rebuilt_at_once = override_settings(DEPENDENTS_REBUILT_AT_ONCE=at_once)
        self.rebuilt_at_once.enable()
        for page, language in start:
            if author is not None:
                self.retitle(author, page, language)
            (request,) = self.submit_as("editor", page, [language])
            self.approve_as("reviewer", request.pk)
            self.publish_as("publisher", request.pk)

    @rule(data=st.data())
    def someone_acts(self, data):
        possible = {
            "review": self.in_state(State.IN_REVIEW),
            "publish": self.in_state(State.APPROVED),
            "publish_unannounced": self.in_state(State.APPROVED),
            "reconfirm": self.live_versions(),
            "withdraw": self.live_versions() and not self.withdrawn,
            "rebuild_waiting": LiveSnapshot.objects.filter(needs_rebuild=True).exists(),
            "cancel_scheduled": bool(self.scheduled),
            "run_scheduled": bool(self.scheduled),
        }
        steps = [name for name, weight in STEPS.items() if possible.get(name, True) for _ in range(weight)]
        getattr(self, data.draw(st.sampled_from(steps), label="step"))(data)

    # The working copy -------------------------------------------------------------

    def token(self, author: str | None) -> str:
        token = f"tok{next(self.counter)}"
        self.writer[token] = author
        return token

    def create_page(self, *, slug: str, parent: Page | None) -> PageModel:
        # Welsh is translated but for one section, Arabic has only the topic's title: from
        # the first step there are fallbacks, partial translations and a language that
        # cannot be submitted (the sub-page's Arabic, until someone writes its title).
        draft = Draft(
            title={"en": self.token(None), "cy": self.token(None), "ar": "" if parent else self.token(None)},
            summary={"en": self.token(None), "cy": "", "ar": ""},
        )
        with history.revision(user=None, comment="Written before the workflow"):
            page = Page.objects.create(
                slug=slug,
                parent=parent,
                **{f"{name}_{code}": draft.texts(code)[name] for code in LANGUAGES for name in ("title", "summary")},
            )
            for position, translated in enumerate((("en", "cy"), ("en",))):
                self.new_section(page, draft, position, translated, author=None)
        model = PageModel(page=page, draft=draft, slug=slug)
        model.revisions[1] = Revision(None, copy.deepcopy(draft), set(), True)
        return model

    def new_section(self, page: Page, draft: Draft, position: int, translated, *, author: str | None) -> None:
        heading = {code: self.token(author) if code in translated else "" for code in LANGUAGES}
        body = {code: f"<p>{self.token(author)}</p>" if code in translated else "" for code in LANGUAGES}
        section = Section.objects.create(
            page=page,
            position=position,
            **{f"heading_{code}": heading[code] for code in LANGUAGES},
            **{f"body_{code}": body[code] for code in LANGUAGES},
        )
        draft.sections[section.pk] = {"position": position, "heading": heading, "body": body}

    def record_edit(self, model: PageModel, author: str, before: Draft, *, moved: bool = False) -> None:
        """Each edit is one revision of its page, noting the languages and structure it changed."""
        latest = PageRevision.objects.filter(page=model.page).order_by("-number").first()
        number = max(model.revisions) + 1
        assert latest.number == number, "an edit must write exactly one revision of its page"
        ids = [[pk for pk, _section in draft.ordered()] for draft in (before, model.draft)]
        revision = Revision(
            author, copy.deepcopy(model.draft), changed_languages(before, model.draft), moved or ids[0] != ids[1]
        )
        assert set(latest.languages) == revision.languages, "the revision misreports the languages it changed"
        assert latest.structure_changed == revision.structure_changed
        model.revisions[number] = revision

    def edit_wording(self, data):
        page = data.draw(st.sampled_from([0, 1]), label="page")
        self.edit(data, page, data.draw(st.sampled_from(LANGUAGES), label="language"))

    def edit(self, data, page: int, language: str) -> None:
        """A random editor writes a fresh token into one part of ``page`` in ``language``, or empties a translation."""
        author = data.draw(st.sampled_from(EDITORS), label="author")
        part = data.draw(st.sampled_from(["title", "summary", "heading", "body"]), label="part")
        # The source language is never emptied; a translation may be, which takes it back to untranslated.
        clear = language != SOURCE and data.draw(st.booleans(), label="clear")
        model = self.pages[page]
        before = copy.deepcopy(model.draft)
        text = "" if clear else self.token(author)
        if part in ("heading", "body") and model.draft.sections:
            pk = data.draw(st.sampled_from(sorted(model.draft.sections)), label="section")
            text = f"<p>{text}</p>" if part == "body" and text else text
            model.draft.sections[pk][part][language] = text
            target = Section.objects.get(pk=pk)
        else:
            part = "title" if part in ("heading", "body") else part
            getattr(model.draft, part)[language] = text
            target = Page.objects.get(pk=model.page.pk)
        setattr(target, f"{part}_{language}", text)
        with history.revision(user=self.users[author], comment=f"Changed the {language} {part}"):
            target.save()
        self.record_edit(model, author, before)

    def retitle(self, author: str, page: int, language: str) -> None:
        model = self.pages[page]
        before = copy.deepcopy(model.draft)
        model.draft.title[language] = self.token(author)
        target = Page.objects.get(pk=model.page.pk)
        setattr(target, f"title_{language}", model.draft.title[language])
        with history.revision(user=self.users[author], comment=f"Retitled in {language}"):
            target.save()
        self.record_edit(model, author, before)

    def change_sections(self, data):
        """Add a section (in the source language and some translations), delete one, or move one."""
        model = self.pages[data.draw(st.sampled_from([0, 1]), label="page")]
        author = data.draw(st.sampled_from(EDITORS), label="author")
        change = data.draw(st.sampled_from(["add", "delete", "move"]), label="change")
        before = copy.deepcopy(model.draft)
        if change == "add" or not model.draft.sections:
            translations = data.draw(st.sets(st.sampled_from(LANGUAGES[1:])), label="translated into")
            position = max((s["position"] for s in model.draft.sections.values()), default=-1) + 1
            # A fresh page: the revision records the section's page as it is in memory.
            page = Page.objects.get(pk=model.page.pk)
            with history.revision(user=self.users[author], comment="Added a section"):
                self.new_section(page, model.draft, position, {SOURCE, *translations}, author=author)
        else:
            pk = data.draw(st.sampled_from(sorted(model.draft.sections)), label="section")
            section = Section.objects.get(pk=pk)
            with history.revision(user=self.users[author], comment=f"Section: {change}"):
                if change == "delete":
                    del model.draft.sections[pk]
                    section.delete()
                else:
                    position = data.draw(st.integers(0, 4), label="position")
                    model.draft.sections[pk]["position"] = section.position = position
                    section.save()
        self.record_edit(model, author, before)

    # The workflow: each step as it may be taken, then each as the model expects it to go --------

    def someone(self, data, permission: str) -> str:
        """Someone who holds ``permission`` (the others try in :meth:`act_out_of_turn`)."""
        return data.draw(st.sampled_from([name for name in PEOPLE if may(name, permission)]), label="person")

    def in_state(self, *states) -> list[int]:
        return sorted(pk for pk, request in self.requests.items() if request.state in states)

    def path(self, page: int) -> str:
        return self.pages[0].slug if page == 0 else f"{self.pages[0].slug}/{self.pages[1].slug}"

    def has_public_place(self, page: int) -> bool:
        """The page, or a page below it (the sub-page is below the topic), has had a snapshot."""
        below = [0, 1] if page == 0 else [1]
        return any(self.pages[index].live for index in below)

    def live_versions(self) -> list[tuple[int, str]]:
        return [(page, code) for page, model in enumerate(self.pages) for code in LANGUAGES if model.live_in(code)]

    def submit(self, data):
        """Submit the latest revision; often the editors then carry on, so that what is
        reviewed and published is no longer the working copy."""
        page = data.draw(st.sampled_from([0, 1]), label="page")
        languages = data.draw(st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=2, unique=True), label="in")
        person = self.someone(data, "submit_for_review")
        if self.submit_as(person, page, languages) and data.draw(st.booleans(), label="then edit"):
            self.edit(data, page, languages[0])

    def review(self, data):
        pk = data.draw(st.sampled_from(self.in_state(State.IN_REVIEW)), label="request")
        person = self.someone(data, "sign_off")
        if data.draw(st.sampled_from(["approve", "approve", "request changes"]), label="decision") == "approve":
            self.approve_as(person, pk)
        else:
            self.request_changes_as(person, pk, "Check the dose in section 2.")

    def publish(self, data):
        pk = data.draw(st.sampled_from(self.in_state(State.APPROVED)), label="request")
        self.publish_as(self.someone(data, "publish"), pk)

    def publish_unannounced(self, data):
        """Publish from a process that cannot reach the cache, and then exits (a command run
        while Redis is down): neither its lock-time nor its commit-time announcement gets out."""
        pk = data.draw(st.sampled_from(self.in_state(State.APPROVED)), label="request")
        with override_settings(CACHES=UNREACHABLE_CACHE), cache.as_process(cache.Process()):
            self.publish_as(self.someone(data, "publish"), pk)
        self.unannounced = True

    def reconfirm(self, data):
        page, language = data.draw(st.sampled_from(self.live_versions()), label="live version")
        self.reconfirm_as(self.someone(data, "sign_off"), page, language)

    def withdraw(self, data):
        # A recall is rare: at most one goes through in a run, so that most runs keep pages live.
        page = data.draw(st.sampled_from(sorted({page for page, _code in self.live_versions()})), label="page")
        self.withdraw_as(self.someone(data, "withdraw"), page, "The dose in section 2 is wrong.")

    def move(self, data):
        """Rename a page (perhaps changing its position too), which moves the sub-page as well."""
        page = data.draw(st.sampled_from([0, 1]), label="page")
        person = data.draw(st.sampled_from(list(PEOPLE)), label="person")
        self.move_as(data, person, page)

    def rebuild_waiting(self, data):
        """What an app server's thread, or ``manage.py rebuild_waiting_pages``, does, a batch at a time."""
        taken, failed = snapshots.rebuild_waiting(limit=data.draw(st.integers(1, 2), label="batch"))
        assert taken and not failed

    def act_out_of_turn(self, data):
        """Anyone, on anything, in any state, perhaps without saying why: refused unless the model says otherwise."""
        step = data.draw(
            st.sampled_from(["submit", "approve", "request changes", "publish", "reconfirm", "withdraw", "move"]),
            label="does",
        )
        person = data.draw(st.sampled_from(list(PEOPLE)), label="person")
        page = data.draw(st.sampled_from([0, 1]), label="page")
        language = data.draw(st.sampled_from(LANGUAGES), label="language")
        say = data.draw(st.sampled_from(["Because.", " "]), label="saying")
        if step == "submit":
            # A script may submit an older revision than the latest.
            number = data.draw(st.sampled_from(sorted(self.pages[page].revisions, reverse=True)), label="revision")
            self.submit_as(person, page, [language], number)
        elif step == "reconfirm":
            self.reconfirm_as(person, page, language)
        elif step == "move":
            self.move_as(data, person, page)
        elif step == "withdraw" and not self.withdrawn:
            self.withdraw_as(person, page, say)
        elif self.requests and step != "withdraw":
            pk = data.draw(st.sampled_from(sorted(self.requests)), label="request")
            if step == "approve":
                self.approve_as(person, pk)
            elif step == "request changes":
                self.request_changes_as(person, pk, say)
            else:
                self.publish_as(person, pk)

    def expected_wording(self, model: PageModel, number: int, language: str) -> dict | None:
        live_source = model.live_in(SOURCE)
        fallback = live_source.wording if language != SOURCE and live_source else None
        return frozen(model.revisions[number].draft, language, fallback)

    def authors_since_published(self, model: PageModel, language: str, number: int) -> set[str]:
        since = model.last_published.get(language, 0)
        return {
            revision.author
            for n, revision in model.revisions.items()
            if since < n <= number
            and revision.author
            and (language in revision.languages or revision.structure_changed)
        }

    def fingerprint(self) -> tuple:
        """Everything a workflow step may write."""
        return (
            Transition.objects.count(),
            Publication.objects.count(),
            Notification.objects.count(),
            list(ReviewRequest.objects.order_by("pk").values_list("pk", "state", "approved_by", "wording")),
            list(LiveSnapshot.objects.order_by("pk").values_list("pk", "source", "content", "withdrawn_at", "path")),
            list(Page.objects.order_by("pk").values_list("pk", "path", "position")),
            list(Redirect.objects.order_by("pk").values_list("old_path", "page_id")),
            list(ScheduledStep.objects.order_by("pk").values_list("pk", "outcome")),
        )

    def attempt(self, refusal: type[services.WorkflowError] | None, step, /, **kwargs):
        """Run ``step``; the model expects it to go ahead (``refusal`` None) or to be refused."""
        before = self.fingerprint()
        try:
            result = step(**kwargs)
        except services.WorkflowError as error:
            event(f"{step.__name__}: refused ({type(error).__name__})")
            assert refusal is not None, f"{step.__name__} was refused, the model expected it to go ahead: {error}"
            assert isinstance(error, refusal), f"{step.__name__} raised {error!r}, expected {refusal.__name__}"
            assert self.fingerprint() == before, f"a refused {step.__name__} changed something"
            return None
        event(f"{step.__name__}: done")
        assert refusal is None, f"{step.__name__} went ahead, the model expected {refusal.__name__}"
        return result

    def check_log(self, person: str, steps: int) -> None:
        self.check_log_of([person] * steps)

    def check_log_of(self, people: list[str | None]) -> None:
        """The log's new rows, by who took each (None: refused when it fell due)."""
        logged = Transition.objects.filter(pk__gt=self.last_transition).order_by("pk")
        assert list(logged.values_list("user__username", flat=True)) == people, "the log misses or adds steps"
        self.last_transition = max(logged.values_list("pk", flat=True), default=self.last_transition)

    def supersede(self, page: int, language: str, states, *, up_to: int | None = None, spare=None) -> int:
        superseded = [
            request
            for request in self.requests.values()
            if request.page == page
            and request.language == language
            and request.state in states
            and (up_to is None or request.revision <= up_to)
            and request is not spare
        ]
        for request in superseded:
            request.state = State.SUPERSEDED
        return len(superseded)

    def submission_refused(self, page: int, language: str, number: int) -> bool:
        model = self.pages[page]
        live = model.live_in(language)
        if live is not None and live.revision >= number:
            return True  # not newer than the live version
        wording = self.expected_wording(model, number, language)
        if wording is None or (live is not None and live.wording == wording):
            return True  # not translated, or nothing changed
        # already submitted (a request sent back may be submitted again)
        return any(
            (r.page, r.language, r.revision) == (page, language, number)
            and r.state in (State.IN_REVIEW, State.APPROVED)
            for r in self.requests.values()
        )

    def submit_as(self, person: str, page: int, languages: list[str], number: int | None = None):
        """Submit revision ``number`` (by default the latest, as the admin does) in ``languages``."""
        model = self.pages[page]
        number = number or max(model.revisions)
        refusal = None
        if not may(person, "submit_for_review"):
            refusal = services.NotAllowed
        elif any(self.submission_refused(page, language, number) for language in languages):
            refusal = services.WorkflowError
        revision = PageRevision.objects.get(page=model.page, number=number)
        user = self.users[person]
        created = self.attempt(
            refusal, services.submit, page=model.page, languages=languages, user=user, revision=revision
        )
        if created is None:
            return None
        steps = 0
        for request, language in zip(created, languages, strict=True):
            steps += 1 + self.supersede(page, language, (State.IN_REVIEW, State.CHANGES_REQUESTED))
            authors = self.authors_since_published(model, language, number)
            self.requests[request.pk] = Request(page, language, number, State.IN_REVIEW, authors)
        self.check_log(person, steps)
        return created

    def approve_as(self, person: str, pk: int) -> None:
        request = self.requests[pk]
        model = self.pages[request.page]
        wording = self.expected_wording(model, request.revision, request.language)
        refusal = None
        if not may(person, "sign_off"):
            refusal = services.NotAllowed
        elif request.state != State.IN_REVIEW:
            refusal = services.WorkflowError
        elif person in request.authors:
            refusal = services.NotAllowed
        elif wording is None:
            refusal = services.WorkflowError  # it relied on source-language wording no longer live
        approval = ReviewRequest.objects.get(pk=pk)
        if not self.attempt(refusal, services.approve, request=approval, user=self.users[person], comment="Accurate"):
            return
        # Four eyes, on the text itself: every word new to this language was written by someone else.
        draft = model.revisions[request.revision].draft
        new = draft.tokens(request.language) - self.approved[request.language]
        own = {token for token in new if self.writer[token] == person}
        assert not own, f"{person} approved their own wording {own}"
        self.approved[request.language] |= draft.tokens(request.language)
        request.state, request.approved_by, request.wording = State.APPROVED, person, wording
        self.check_log(person, 1)

    def request_changes_as(self, person: str, pk: int, comment: str) -> None:
        request = self.requests[pk]
        refusal = None
        if not may(person, "sign_off"):
            refusal = services.NotAllowed
        elif not comment.strip() or request.state != State.IN_REVIEW:
            refusal = services.WorkflowError
        returned = ReviewRequest.objects.get(pk=pk)
        if self.attempt(refusal, services.request_changes, request=returned, user=self.users[person], comment=comment):
            request.state = State.CHANGES_REQUESTED
            self.check_log(person, 1)

    def publish_refusal(self, person: str, pk: int, *, scheduling: bool = False) -> type[services.WorkflowError] | None:
        """What publishing ``pk`` as ``person`` now meets, by the model; or scheduling it,
        which leaves a newer live version to be found when the step runs."""
        request = self.requests[pk]
        live = self.pages[request.page].live_in(request.language)
        if not may(person, "publish"):
            return services.NotAllowed
        if request.state != State.APPROVED:
            return services.WorkflowError
        if django_settings.REVIEW_REQUIRE_THIRD_PERSON and person in {request.approved_by, *request.authors}:
            return services.NotAllowed
        if live is not None and live.revision > request.revision and not scheduling:
            return services.WorkflowError
        if scheduling and any(waiting.request == pk for waiting in self.scheduled.values()):
            return services.WorkflowError
        return None

    def published(self, pk: int) -> int:
        """The model after ``pk`` went live: how many requests that superseded."""
        request = self.requests[pk]
        model = self.pages[request.page]
        if request.revision < max(model.revisions):
            event("publish: an approved revision older than the working copy")
        model.live[request.language] = Live(request.wording, request.revision, request.authors, request.approved_by)
        model.last_published[request.language] = request.revision
        request.state = State.PUBLISHED
        return self.supersede(request.page, request.language, OPEN, up_to=request.revision, spare=request)

    def publish_as(self, person: str, pk: int) -> None:
        refusal = self.publish_refusal(person, pk)
        published = ReviewRequest.objects.get(pk=pk)
        if self.attempt(refusal, services.publish, request=published, user=self.users[person]) is None:
            return
        self.check_log(person, 1 + self.published(pk))

    def reconfirm_as(self, person: str, page: int, language: str) -> None:
        model = self.pages[page]
        live = model.live_in(language)
        refusal = None
        if not may(person, "sign_off"):
            refusal = services.NotAllowed
        elif live is None:
            refusal = services.WorkflowError
        elif person in live.authors:
            refusal = services.NotAllowed  # four eyes: nobody re-confirms wording they wrote
        last = ReviewRequest.objects.aggregate(last=Max("pk"))["last"] or 0
        user = self.users[person]
        if not (
            reconfirmed := self.attempt(refusal, services.reconfirm, page=model.page, language=language, user=user)
        ):
            return
        assert reconfirmed.source == live.wording, "re-confirming changed the live wording"
        model.last_published[language] = live.revision
        live.approved_by = person
        (new,) = ReviewRequest.objects.filter(pk__gt=last).values_list("pk", flat=True)
        self.requests[new] = Request(page, language, live.revision, State.PUBLISHED, live.authors, person, live.wording)
        self.check_log(person, 1)

    def withdraw_refusal(self, person: str, page: int, reason: str) -> type[services.WorkflowError] | None:
        if not may(person, "withdraw"):
            return services.NotAllowed
        if not reason.strip() or not any(self.pages[page].live_in(code) for code in LANGUAGES):
            return services.WorkflowError
        return None

    def withdrawn_now(self, page: int) -> int:
        """The model after ``page`` was withdrawn: how many requests that superseded. Every
        step scheduled for the page is cancelled with it."""
        for live in self.pages[page].live.values():
            live.withdrawn = True
        self.withdrawn = True
        for pk in [pk for pk, waiting in self.scheduled.items() if waiting.page == page]:
            self.cancelled_by_recall.add(pk)
            del self.scheduled[pk]
        # A recall ends every request of the page on its way: it comes back only through a new sign-off.
        return sum(self.supersede(page, language, OPEN) for language in LANGUAGES)

    def withdraw_as(self, person: str, page: int, reason: str) -> None:
        refusal = self.withdraw_refusal(person, page, reason)
        model = self.pages[page]
        if self.attempt(refusal, services.withdraw, page=model.page, user=self.users[person], reason=reason) is None:
            return
        self.check_log(person, 1 + self.withdrawn_now(page))

    # Scheduled steps ---------------------------------------------------------------

    def schedule(self, data):
        """Someone asks for a publish or a recall at a time to come (refused unless the model says otherwise)."""
        # Mostly a publisher, mostly of an approval: the rest are refused.
        person = data.draw(st.sampled_from(["publisher"] * len(PEOPLE) + list(PEOPLE)), label="person")
        at = timezone.now() + SCHEDULE_AHEAD
        last = ScheduledStep.objects.aggregate(last=Max("pk"))["last"] or 0
        if not self.withdrawn and not data.draw(st.sampled_from([True, True, True, False]), label="publish"):
            page = data.draw(st.sampled_from([0, 1]), label="page")
            refusal = self.withdraw_refusal(person, page, "Recall.")
            if refusal is None and any(s.action == "withdraw" and s.page == page for s in self.scheduled.values()):
                refusal = services.WorkflowError
            step = self.attempt(
                refusal,
                scheduling.schedule_withdrawal,
                page=self.pages[page].page,
                user=self.users[person],
                at=at,
                reason="The dose in section 2 is wrong.",
            )
            scheduled = Scheduled("withdraw", person, page)
        else:
            if not self.requests:
                return
            approved = self.in_state(State.APPROVED)
            pk = data.draw(st.sampled_from(approved * 3 + sorted(self.requests)), label="request")
            refusal = self.publish_refusal(person, pk, scheduling=True)
            request = ReviewRequest.objects.get(pk=pk)
            step = self.attempt(refusal, scheduling.schedule_publish, request=request, user=self.users[person], at=at)
            scheduled = Scheduled("publish", person, self.requests[pk].page, request=pk)
        if step is None:
            return
        assert step.pk > last
        self.scheduled[step.pk] = scheduled
        self.check_log(person, 1)

    def cancel_scheduled(self, data):
        pk = data.draw(st.sampled_from(sorted(self.scheduled)), label="scheduled step")
        person = data.draw(st.sampled_from(list(PEOPLE)), label="person")
        waiting = self.scheduled[pk]
        refusal = None if may(person, waiting.action) else services.NotAllowed
        step = ScheduledStep.objects.get(pk=pk)
        if self.attempt(refusal, scheduling.cancel, step=step, user=self.users[person]) is None:
            return
        del self.scheduled[pk]
        self.check_log(person, 1)

    def run_scheduled(self, data):
        """The frequent job, a while later: every waiting step is due, and taken in order
        as its step would be by whoever scheduled it, or refused and recorded as such."""
        expected_log = []
        outcomes = {}
        for pk in sorted(self.scheduled):
            if pk not in self.scheduled:  # cancelled by a recall this run took
                continue
            waiting = self.scheduled.pop(pk)
            if waiting.action == "publish":
                refusal = self.publish_refusal(waiting.person, waiting.request)
                superseded = 0 if refusal else self.published(waiting.request)
            else:
                refusal = self.withdraw_refusal(waiting.person, waiting.page, "Recall.")
                superseded = 0 if refusal else self.withdrawn_now(waiting.page)
            outcomes[pk] = "refused" if refusal else "done"
            expected_log += [None] if refusal else [waiting.person] * (1 + superseded)
            event(f"scheduled {waiting.action}: {outcomes[pk]}")
        ran = scheduling.run_due(now=timezone.now() + JOB_AHEAD)
        assert {r.step.pk: "refused" if r.refused else "done" for r in ran} == outcomes
        assert dict(ScheduledStep.objects.filter(pk__in=outcomes).values_list("pk", "outcome")) == outcomes
        self.check_log_of(expected_log)

    @invariant()
    def steps_scheduled_before_a_recall_never_happen(self):
        if self.cancelled_by_recall:
            cancelled = ScheduledStep.objects.filter(pk__in=self.cancelled_by_recall)
            assert set(cancelled.values_list("outcome", flat=True)) == {ScheduledStep.Outcome.CANCELLED}

    def move_as(self, data, person: str, page: int) -> None:
        model = self.pages[page]
        choices = ["insulin", "insulin-a", "insulin-b"] if page == 0 else ["dosing", "dosing-a", "dosing-b"]
        slug = data.draw(st.sampled_from([c for c in choices if c != model.slug]), label="new slug")
        position = data.draw(st.sampled_from([0, 1]), label="position")
        public = self.has_public_place(page)
        refusal = None
        if not may(person, "publish" if public else "change_page"):
            refusal = services.NotAllowed
        moved = [page, 1] if page == 0 else [1]
        old_paths = {index: self.path(index) for index in moved}
        before = copy.deepcopy(model.draft)
        target = Page.objects.get(pk=model.page.pk)
        parent = target.parent
        user = self.users[person]
        done = self.attempt(
            refusal, services.move, page=target, parent=parent, slug=slug, position=position, user=user, comment="Tidy"
        )
        if done is None:
            return
        model.slug = slug
        for index in moved:
            mover = self.pages[index]
            if mover.live:
                mover.old_paths.add(old_paths[index])
            mover.old_paths.discard(self.path(index))
        self.record_edit(model, person, before, moved=True)
        self.check_log(person, 1 if public else 0)

    # What the public sees ----------------------------------------------------------------

    def link_titles(self, page: int, language: str) -> set[tuple[str, str]]:
        """The (title, language) another page may show in a link to ``page`` for readers of
        ``language``: its own language's live title, else the source language's, else any live one."""
        model = self.pages[page]
        live = {code: model.live_in(code) for code in LANGUAGES if model.live_in(code)}
        chosen = [language] if language in live else [SOURCE] if SOURCE in live else list(live)
        return {(live[code].wording["title"]["text"], code) for code in chosen}

    def links(self, page: int, language: str) -> dict[str, set[tuple[str, str]]]:
        """The links each kind of list on ``page`` may hold: the topic lists its sub-page, the sub-page its topic."""
        other = 1 - page
        return {"children" if page == 0 else "breadcrumbs": self.link_titles(other, language)}

    @invariant()
    def requests_are_as_the_model_says(self):
        rows = ReviewRequest.objects.filter(pk__in=self.requests).prefetch_related("authors")
        names = {user.pk: name for name, user in self.users.items()}
        assert len(rows) == len(self.requests), "a step wrote a request the model does not know"
        for row in rows:
            request = self.requests[row.pk]
            authors = {names[user.pk] for user in row.authors.all()}
            assert (row.state, row.language, row.revision.number) == (request.state, request.language, request.revision)
            assert authors == request.authors, f"authors of {row}"
            assert names.get(row.approved_by_id) == request.approved_by
            if request.approved_by:
                assert row.wording == request.wording, f"{row} froze other wording than its pinned revision's"
                # Re-confirming included: nobody signs off wording they wrote.
                assert row.approved_by_id not in {user.pk for user in row.authors.all()}, "four eyes broken"

    @invariant()
    def each_live_version_is_the_last_published_approval(self):
        last_published, signed_off = {}, {}
        rows = ReviewRequest.objects.filter(state=State.PUBLISHED).select_related("approved_by")
        for row in rows.order_by("published_at", "pk"):
            last_published[row.page_id, row.language] = row.wording
            # The review dates and the reviewer the public sees: those of that sign-off.
            signed_off[row.page_id, row.language] = (row.last_reviewed, row.next_review_due, row.approved_by.username)
        snapshots = {(s.page_id, s.language): s for s in LiveSnapshot.objects.select_related("revision")}
        for model in self.pages:
            for language in LANGUAGES:
                snapshot, expected = snapshots.get((model.page.pk, language)), model.live.get(language)
                if expected is None:
                    assert snapshot is None, f"{snapshot} is public though nothing was published in {language}"
                    continue
                assert snapshot.source == expected.wording, f"{snapshot} is not the wording last published"
                assert snapshot.source == last_published[model.page.pk, language], (
                    f"{snapshot} differs from its sign-off"
                )
                assert snapshot.revision.number == expected.revision
                assert (snapshot.withdrawn_at is not None) == expected.withdrawn
                assert expected.approved_by not in expected.authors, f"{snapshot} is signed off by its own author"
                assert snapshot.signed_off_by == expected.approved_by, f"{snapshot} names another reviewer"
                dates = (snapshot.last_reviewed, snapshot.next_review_due, snapshot.signed_off_by)
                assert dates == signed_off[model.page.pk, language], f"{snapshot} shows other review dates"
                assert snapshot.path == self.path(self.pages.index(model)), f"{snapshot} is not at its page's address"

    @invariant()
    def old_addresses_are_exactly_those_the_pages_had_in_public(self):
        redirects = set(Redirect.objects.values_list("old_path", "page_id"))
        expected = {(path, model.page.pk) for model in self.pages for path in model.old_paths}
        assert redirects == expected, f"redirects {redirects}, expected {expected}"

    @invariant()
    def nothing_unapproved_is_live(self):
        for page, model in enumerate(self.pages):
            for snapshot in LiveSnapshot.objects.filter(page=model.page, withdrawn_at__isnull=True):
                if snapshot.needs_rebuild:  # never served as stored: readers get it composed as it is now
                    assert snapshot.html_key == "", f"{snapshot} waits to be rebuilt, but its rendering is served"
                    publishing.compose(snapshot)
                content = snapshot.content
                wording = [(snapshot.title, content["title_lang"]), (snapshot.summary, content["summary_lang"])]
                for section in content["sections"]:
                    wording += [(section["heading"], section["heading_lang"]), (section["html"], section["lang"])]
                links = {kind: [(link["title"], link["lang"]) for link in content[kind]] for kind in LINK_LISTS}
                for text, language in wording + [link for listed in links.values() for link in listed]:
                    unapproved = set(TOKEN.findall(text)) - self.approved[language]
                    assert not unapproved, f"{snapshot} shows {unapproved}, never approved in {language}"
                rendered = set(TOKEN.findall(" ".join(text for text, _language in wording)))
                assert rendered == wording_tokens(snapshot.source), f"{snapshot} is not rendered from its wording"
                expected = {kind: set() for kind in LINK_LISTS} | self.links(page, snapshot.language)
                for kind, candidates in expected.items():
                    if candidates:
                        assert len(links[kind]) == 1 and links[kind][0] in candidates, (
                            f"{snapshot} {kind}: {links[kind]}"
                        )
                    else:
                        assert links[kind] == [], f"{snapshot} links to {links[kind]}, which is not live"

    def read_public_pages(self, data):
        """Every address, through this app server and then through another one that has
        waited out its check interval: both must show the same, current, version."""
        if self.unannounced:  # every server compares the database with the cache within a second
            event("read: after a publish nobody announced")
            cache.catch_up()
            self.unannounced = False
        for elsewhere in (False, True):
            if elsewhere:
                self.elsewhere_clock += django_settings.PUBLIC_CACHE_CHECK_SECONDS + 1
            with translation.override(SOURCE), cache.as_process(self.elsewhere) if elsewhere else nullcontext():
                self.read_sitemap()
                for language in LANGUAGES:
                    self.read_home(language)
                    self.read_search(language)
                    for page, model in enumerate(self.pages):
                        self.read_page(page, model, language)
                        for old in model.old_paths:
                            self.read_old_address(page, model, language, old)

    def read_old_address(self, page: int, model: PageModel, language: str, old: str) -> None:
        """An address the page had: 301 to where it is now, for good; 410 once withdrawn."""
        response = self.client.get(f"/{language}/{old}/")
        shown = model.live.get(language if language in model.live else SOURCE)
        if shown is None:
            assert response.status_code == 404, f"/{language}/{old}/ answers {response.status_code}"
        elif shown.withdrawn:
            assert response.status_code == 410, f"/{language}/{old}/ answers {response.status_code}"
        else:
            assert response.status_code == 301, f"/{language}/{old}/ answers {response.status_code}"
            assert response["Location"] == f"/{language}/{self.path(page)}/"

    def read_search(self, language: str) -> None:
        """The search finds each version live in ``language`` by a word of its published title,
        and never a page that is not live in that language (nor a withdrawn one)."""
        live_here = {
            self.path(page): model.live[language]
            for page, model in enumerate(self.pages)
            if language in model.live and not model.live[language].withdrawn
        }
        with override_settings(SEARCH_RATE_LIMIT=0):
            for path, live in live_here.items():
                word = TOKEN.findall(live.wording["title"]["text"])[-1]
                response = self.client.get(f"/{language}/search/", {"q": word})
                found = set(re.findall(rf'<h2><a href="/{language}/([^"]+)/">', response.content.decode()))
                assert path in found, f"searching {word} in {language} misses /{path}/"
                assert found <= set(live_here), f"searching {word} in {language} finds {found - set(live_here)}"

    def read_sitemap(self) -> None:
        """The sitemap, walked from its index in pages of two addresses: every version live now at
        its address, with the languages the page is live in as its alternates, and nothing else."""
        expected = {}
        for page, model in enumerate(self.pages):
            live = {code for code, version in model.live.items() if not version.withdrawn}
            expected |= {f"/{code}/{self.path(page)}/": live for code in live}
        listed = {}
        with override_settings(SITEMAP_PAGE_SIZE=2):
            index = ElementTree.fromstring(self.client.get("/sitemap.xml").content)
            for entry in index.iter(f"{SITEMAP}loc"):
                if "/sitemap-pages-" not in entry.text:
                    continue
                for url in ElementTree.fromstring(self.client.get(urlsplit(entry.text).path).content).iter(
                    f"{SITEMAP}url"
                ):
                    links = {link.get("hreflang") for link in url.iter("{http://www.w3.org/1999/xhtml}link")}
                    listed[urlsplit(url.find(f"{SITEMAP}loc").text).path] = links - {"x-default"}
        assert listed == expected, f"the sitemap lists {listed}, expected {expected}"

    def read_home(self, language: str) -> None:
        topic = self.pages[0]
        shown = topic.live_in(language) or topic.live_in(SOURCE)
        response = self.client.get(f"/{language}/")
        assert response.status_code == 200
        found = set(TOKEN.findall(response.content.decode()))
        expected = set(
            TOKEN.findall(f"{shown.wording['title']['text']} {shown.wording['summary']['text']}" if shown else "")
        )
        assert found == expected, f"/{language}/ shows {found}, expected {expected}"

    def read_page(self, page: int, model: PageModel, language: str) -> None:
        path = self.path(page)
        response = self.client.get(f"/{language}/{path}/")
        found = set(TOKEN.findall(response.content.decode()))
        # The address shows the reader's language, else the source language, withdrawn or not,
        # with links to the pages around it named in the reader's language where they are live in it.
        shown_in = language if language in model.live else SOURCE
        shown = model.live.get(shown_in)
        if shown is None:
            assert response.status_code == 404 and not found
            return
        if shown.withdrawn:
            assert response.status_code == 410 and not found, f"/{language}/{path}/ shows {found}"
            return
        assert response.status_code == 200
        snapshot = LiveSnapshot.objects.get(page=model.page, language=shown_in)
        for date in (snapshot.last_reviewed, snapshot.next_review_due):
            assert f'datetime="{date:%Y-%m-%d}"' in response.content.decode(), f"/{language}/{path}/ misses {date}"
        own = wording_tokens(shown.wording)
        links = set().union(*self.links(page, language).values())
        others = found - own
        assert own <= found, f"/{language}/{path}/ misses {own - found}"
        assert others <= {t for title, _code in links for t in TOKEN.findall(title)}, (
            f"/{language}/{path}/ shows {others}, which is not its published wording"
        )


TestSignOffWorkflow = SignOffWorkflow.TestCase
