"""Public pages under load while their content changes.

Readers on many connections request public pages from a real server and check
every answer; meanwhile an editor saves a new version of a page in the admin, a
reviewer approves it and a publisher publishes it, over and over. Every version
writes its own marker (``version7mark``) into the title, the summary and every
section, so an answer that mixes two versions, or shows one not yet published,
is caught.
"""

import datetime
import http.client
import itertools
import re
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.test import Client

from pages.models import Page
from review.models import ReviewRequest
from tests.admin_forms import save_in_admin
from tests.servers import manage

MARKER = re.compile(r"version(\d+)mark")


# How long after a publish has returned an answer may still show the version before it:
# each server checks the shared cache every 0.1 s; the rest is for requests in flight.
GRACE_SECONDS = 1.0
# The same for a publish that was never announced (its process could not reach the cache and
# exited): each server compares the database with the cache every second and announces it.
UNANNOUNCED_GRACE_SECONDS = 3.0


@dataclass
class Versions:
    """The versions of a page whose publishing has begun (the only ones the public may
    see), and when each publish had returned (after which older ones must go)."""

    published: set[int] = field(default_factory=set)
    live_since: dict[int, float] = field(default_factory=dict)
    grace: dict[int, float] = field(default_factory=dict)
    # The longest an older version was shown after a newer one had gone live, by the newer one's grace.
    longest_behind: dict[float, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, number: int) -> None:
        with self.lock:
            self.published.add(number)

    def done(self, number: int, grace: float = GRACE_SECONDS) -> None:
        with self.lock:
            self.live_since[number] = time.perf_counter()
            self.grace[number] = grace

    def check(self, status: int, body: str, asked_at: float) -> str | None:
        """What is wrong with an answer for the page, asked for at ``asked_at``, if anything."""
        if status != 200:
            return f"status {status}"
        seen = {int(number) for number in MARKER.findall(body)}
        if len(seen) != 1:
            return f"versions mixed: {sorted(seen)}" if seen else "no version marker"
        (shown,) = seen
        with self.lock:
            if shown not in self.published:
                return f"unpublished version {shown} shown"
            behind = [
                (asked_at - since, self.grace[number]) for number, since in self.live_since.items() if number > shown
            ]
            for seconds, grace in behind:
                self.longest_behind[grace] = max(self.longest_behind.get(grace, 0.0), seconds)
            late = [seconds for seconds, grace in behind if seconds > grace]
        if late:
            return f"version {shown} shown {max(late):.1f} s after a newer one went live"
        return None


@dataclass
class Load:
    requests: int = 0
    problems: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    versions: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seconds: float = 0.0
    changes: int = 0
    unannounced: int = 0
    longest_behind: dict[float, float] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(self.problems.values())

    def summary(self) -> str:
        latencies = sorted(self.latencies) or [0.0]
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        return (
            f"{self.requests} requests in {self.seconds:.0f} s ({self.requests / max(self.seconds, 1e-9):.0f}/s), "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, {self.changes} versions published "
            f"({self.unannounced} by a command that could not reach the cache), "
            f"{len(self.versions)} versions seen, {self.errors} errors; an older version shown at most "
            f"{self.longest_behind.get(GRACE_SECONDS, 0.0):.2f} s after a publish returned, "
            f"{self.longest_behind.get(UNANNOUNCED_GRACE_SECONDS, 0.0):.2f} s after one never announced"
        )


def read(base: str, paths: list[str], versioned: str, versions: Versions, load: Load, stop: threading.Event):
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    for path in itertools.cycle(paths):
        if stop.is_set():
            break
        started = time.perf_counter()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            status, body = response.status, response.read().decode()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            problem, status, body = f"{type(error).__name__}: {error}", None, ""
        else:
            elapsed = time.perf_counter() - started
            problem = (
                versions.check(status, body, started) if path == versioned else (None if status == 200 else status)
            )
        with load.lock:
            load.requests += 1
            if problem:
                load.problems[f"{path}: {problem}"] += 1
            elif status is not None:
                load.latencies.append(elapsed)
                if path == versioned:
                    load.versions[MARKER.search(body)[1]] += 1
    connection.close()


class Newsroom:
    """An editor, a reviewer and a publisher putting new versions of ``page`` live through the admin."""

    def __init__(self, page: Page, editor, reviewer, publisher, language: str = "en"):
        self.page, self.language = page, language
        self.people = {"editor": editor, "reviewer": reviewer, "publisher": publisher}
        self.client = Client()
        self.original = {"title": getattr(page, f"title_{language}"), "summary": getattr(page, f"summary_{language}")}
        self.bodies = [getattr(section, f"body_{language}") for section in page.sections.all()]
        self.number = 0

    def as_(self, role: str) -> Client:
        self.client.force_login(self.people[role])
        return self.client

    def write(self, number: int) -> dict:
        """The admin form's changes that put version ``number``'s marker in every part of the page."""
        mark = f"version{number}mark"
        code = self.language
        changes = {
            f"title_{code}": f"{self.original['title']} {mark}",
            f"summary_{code}": f"{self.original['summary']} {mark}",
        }
        for index, body in enumerate(self.bodies):
            changes[f"sections-{index}-body_{code}"] = f"{body}<p>{mark}</p>"
        return changes

    def publish_next(self, versions: Versions) -> None:
        review = self.approve_next()
        versions.allow(self.number)
        response = self.as_("publisher").post(f"/admin/pages/page/{review.page_id}/workflow/publish/{review.pk}/")
        assert response.status_code == 302, response.content[:2000]
        versions.done(self.number)

    def publish_unannounced(self, versions: Versions, environment: dict) -> None:
        """Publish the next version from ``manage.py publish_page`` in a process that cannot
        reach the cache, and so exits without announcing it."""
        self.approve_next()
        versions.allow(self.number)
        unreachable = environment | {"REDIS_URL": "redis://127.0.0.1:1/0"}
        publisher = self.people["publisher"].username
        done = manage(unreachable, "publish_page", self.page.path, "--language", self.language, "--by", publisher)
        assert done.returncode == 0 and "Could not invalidate" in done.stderr, done.stderr
        versions.done(self.number, grace=UNANNOUNCED_GRACE_SECONDS)

    def approve_next(self) -> ReviewRequest:
        """Write the next version, have it signed off, and return its approved review (not yet published)."""
        self.number += 1
        page = Page.objects.get(pk=self.page.pk)
        save_in_admin(self.as_("editor"), page, change_comment=f"Version {self.number}.", **self.write(self.number))
        workflow = f"/admin/pages/page/{page.pk}/workflow"
        response = self.as_("editor").post(
            f"{workflow}/submit/", {"languages": [self.language], "comment": f"Version {self.number}."}
        )
        assert response.status_code == 302, response.content[:2000]
        review = ReviewRequest.objects.filter(page=page, language=self.language).latest("pk")
        today = datetime.date.today()
        decision = {"last_reviewed": today, "next_review_due": today.replace(year=today.year + 3)}
        decision |= {"comment": "Clinically accurate.", "approve": "1"}
        response = self.as_("reviewer").post(f"{workflow}/review/{review.pk}/", decision)
        assert response.status_code == 302, response.content[:2000]
        return review


def run(
    base: str,
    versioned: str,
    others: list[str],
    newsroom: Newsroom,
    *,
    seconds: float,
    connections: int,
    unannounced_every: int = 0,
    environment: dict | None = None,
) -> Load:
    """Read ``versioned`` (three times in four) and ``others`` on ``connections`` connections
    for ``seconds``, while ``newsroom`` publishes one version after another (every
    ``unannounced_every``-th from a command that cannot reach the cache, in ``environment``)."""
    versions, load, stop = Versions(), Load(), threading.Event()
    newsroom.publish_next(versions)  # version 1 live before the readers start
    paths = [versioned, versioned, versioned, *others] if others else [versioned]
    readers = [
        threading.Thread(target=read, args=(base, paths[i % len(paths) :] + paths[: i % len(paths)], versioned,
                                            versions, load, stop), daemon=True)
        for i in range(connections)
    ]  # fmt: skip
    started = time.perf_counter()
    for reader in readers:
        reader.start()
    try:
        while time.perf_counter() - started < seconds:
            load.changes += 1
            if unannounced_every and load.changes % unannounced_every == 0:
                newsroom.publish_unannounced(versions, environment)
                load.unannounced += 1
            else:
                newsroom.publish_next(versions)
            time.sleep(0.1)
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
    load.seconds = time.perf_counter() - started
    load.longest_behind = dict(versions.longest_behind)
    return load


def cache_prefix() -> str:
    """A key prefix of its own, so that nothing another run cached is served."""
    return f"load-{uuid.uuid4().hex[:12]}"
