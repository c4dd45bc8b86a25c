"""What the public search costs as the site grows: live versions made from the demo
glucagonoma page, each with words of its own, at 1,000 and at SEARCH_BENCH_PAGES
(5,000 here; more with the variable), searched for a common word and a rare one.
The stored, GIN-indexed search document is what keeps the cost flat; for comparison,
the same query computing every version's vector on the fly (what it did before).

Run with ``make bench`` (PostgreSQL); it prints figures and asserts nothing about time.
"""

import os
import statistics
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.utils import timezone

from pages import search
from pages.models import LiveSnapshot, Page
from tests.factories import PageFactory, SectionFactory, publish_fixture

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored search document is PostgreSQL's"),
    pytest.mark.django_db,
]

SIZES = (1_000, int(os.environ.get("SEARCH_BENCH_PAGES", "5000")))
WORDS = [
    "insulin",
    "glucagon",
    "octreotide",
    "lanreotide",
    "somatostatin",
    "pancreas",
    "liver",
    "rash",
    "weight",
    "diabetes",
]


def grow_to(total: int, model: LiveSnapshot) -> None:
    """Copies of ``model``'s live version until ``total`` are live, each with a word of its own."""
    have = LiveSnapshot.objects.count()
    pages = Page.objects.bulk_create(
        Page(slug=f"copy-{n}", path=f"copies/copy-{n}", title=f"Copy {n}", title_en=f"Copy {n}")
        for n in range(have, total)
    )
    now = timezone.now()
    LiveSnapshot.objects.bulk_create(
        LiveSnapshot(
            page=page,
            language="en",
            path=page.path,
            title=f"{model.title} {WORDS[n % len(WORDS)]} copy{n}",
            summary=model.summary,
            content=model.content,
            source=model.source,
            text=f"{model.text} unique{n}",
            last_reviewed=model.last_reviewed,
            next_review_due=model.next_review_due,
            signed_off_by="Benchmark",
            published_at=now,
        )
        for n, page in enumerate(pages, start=have)
    )
    LiveSnapshot.objects.filter(search_document__isnull=True).update(
        search_document=SearchVector("title", weight="A", config="english")
        + SearchVector("summary", weight="B", config="english")
        + SearchVector("text", weight="C", config="english")
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE pages_livesnapshot")


def timed(function, runs: int = 20) -> tuple[float, float]:
    """Median and 95th percentile of ``function``'s time, in milliseconds."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def on_the_fly(query: str) -> int:
    vector = SearchVector("title", weight="A", config="english") + SearchVector("text", weight="C", config="english")
    terms = SearchQuery(query, config="english", search_type="websearch")
    return LiveSnapshot.objects.live().annotate(document=vector).filter(document=terms).count()


def test_search_cost_against_the_size_of_the_site():
    with connection.cursor() as cursor:  # building the site takes longer than any request may
        cursor.execute("SET statement_timeout = 0")
    page = PageFactory(slug="glucagonoma", title_en="Glucagonoma", summary_en="A rare tumour of the pancreas.")
    demo = (Path(settings.BASE_DIR) / "review" / "demo" / "content.json").read_text()
    SectionFactory(page=page, heading_en="About", body_en=f"<p>{demo[:12000].replace('<', ' ')}</p>")
    publish_fixture(page, "en")
    model = LiveSnapshot.objects.get(page=page)
    rows = []
    for size in SIZES:
        grow_to(size, model)
        common = timed(lambda: search.find("octreotide", "en"))
        rare = timed(lambda word=f"unique{size // 2}": search.find(word, "en"))
        before = timed(lambda: on_the_fly("octreotide"), runs=2)
        rows.append((size, common, rare, before))
        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN ANALYZE SELECT id FROM pages_livesnapshot WHERE language = 'en' AND withdrawn_at IS NULL "
                "AND search_document @@ websearch_to_tsquery('english', %s)",
                [f"unique{size // 2}"],
            )
            print(f"\n{size:,}: " + " | ".join(row[0].strip() for row in cursor.fetchall()))
    print("\nPublic search (PostgreSQL), median / p95 in ms")
    print(f"{'live versions':>14} {'common word':>16} {'rare word':>16} {'vectors on the fly':>20}")
    for size, common, rare, before in rows:
        print(f"{size:>14,} {common[0]:>7.1f} / {common[1]:>6.1f} {rare[0]:>7.1f} / {rare[1]:>6.1f} {before[0]:>11.1f}")
    print(f"p95 ratio, {SIZES[-1]:,} to {SIZES[0]:,}: common {rows[-1][1][1] / rows[0][1][1]:.2f}×, "
          f"rare {rows[-1][2][1] / rows[0][2][1]:.2f}×")  # fmt: skip
