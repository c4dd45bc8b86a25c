"""What comparing long texts costs: word_diff on two ~80 KB bodies (and on smaller
ones, to show how the time grows), on 50 KB against 200 KB, and the two screens
that show such diffs: the review screen and the history comparison.

The texts are the demo glucagonoma page over and over, each copy with words of
its own, then revised: scattered word changes, paragraphs inserted and deleted.
Run with ``make bench``; it prints figures and asserts nothing about time.
"""

import json
import random
import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from pages import richtext
from pages.diffs import word_diff
from pages.models import PageRevision
from review import roles, services
from tests.factories import PageFactory, SectionFactory, UserFactory, edited, publish_fixture

DEMO = Path(settings.BASE_DIR) / "review" / "demo" / "content.json"
GLUCAGONOMA = "neuroendocrine-cancer/pancreatic-neuroendocrine-tumours/glucagonoma"
BLOCK = re.compile(r"<(p|ul|ol|h3|h4)>.*?</\1>", re.S)
TEXT = re.compile(r"(?<=>)[^<]+")  # between tags, never inside one
WORD = re.compile(r"[A-Za-z]{4,}")
SENTENCE = re.compile(r"[A-Z][^.<>]{20,}\.")


def demo_blocks() -> list[str]:
    page = next(p for p in json.loads(DEMO.read_text())["pages"] if p["path"] == GLUCAGONOMA)
    return [match.group() for section in page["sections"] for match in BLOCK.finditer(section["body"]["en"])]


BLOCKS = demo_blocks()
VOCABULARY = sorted({word.lower() for block in BLOCKS for text in TEXT.findall(block) for word in WORD.findall(text)})
SENTENCES = [sentence for block in BLOCKS for text in TEXT.findall(block) for sentence in SENTENCE.findall(text)]


def swap_word(block: str, rng: random.Random) -> str:
    spans = [(t.start() + w.start(), t.start() + w.end()) for t in TEXT.finditer(block) for w in WORD.finditer(t[0])]
    if not spans:
        return block
    start, end = rng.choice(spans)
    return block[:start] + rng.choice(VOCABULARY) + block[end:]


def new_paragraph(rng: random.Random) -> str:
    return "<p>" + " ".join(rng.sample(SENTENCES, 3)) + "</p>"


def body(size: int, rng: random.Random) -> list[str]:
    """Blocks of stored rich text, about ``size`` characters in all."""
    blocks, length = [], 0
    while length < size:
        for block in BLOCKS:
            blocks.append(swap_word(block, rng))
            length += len(blocks[-1])
            if length >= size:
                break
    return blocks


def revise(blocks: list[str], rng: random.Random, *, words: int, inserted: int = 6, deleted: int = 6) -> list[str]:
    """``blocks`` with ``words`` words changed here and there, paragraphs deleted and new ones inserted."""
    blocks = list(blocks)
    for _ in range(words):
        index = rng.randrange(len(blocks))
        blocks[index] = swap_word(blocks[index], rng)
    for _ in range(deleted):
        del blocks[rng.randrange(len(blocks))]
    for _ in range(inserted):
        blocks.insert(rng.randrange(len(blocks) + 1), new_paragraph(rng))
    return blocks


def grow(blocks: list[str], rng: random.Random, *, size: int) -> list[str]:
    """``blocks`` with new paragraphs and copied passages inserted until it is about ``size`` characters."""
    blocks, length = list(blocks), sum(map(len, blocks))
    while length < size:
        addition = body(rng.randrange(500, 5000), rng) if rng.random() < 0.5 else [new_paragraph(rng)]
        index = rng.randrange(len(blocks) + 1)
        blocks[index:index] = addition
        length += sum(map(len, addition))
    return blocks


def readable(blocks: list[str]) -> str:
    return richtext.readable("".join(blocks), label_for_page=str)


def timed(function):
    """Best of up to five runs, stopping once two seconds have been spent."""
    best, spent, runs = float("inf"), 0.0, 0
    while runs < 5 and (runs == 0 or spent < 2):
        start = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - start
        best, spent, runs = min(best, elapsed), spent + elapsed, runs + 1
    return best, result


def test_word_diff_on_long_bodies():
    print("\nword_diff of a body against its revision (300 words changed, 6 paragraphs in, 6 out),")
    print("  sizes of the text it compares (richtext.readable of 10 to 80 KB stored):")
    for size in (10_000, 20_000, 40_000, 80_000):
        rng = random.Random(size)
        blocks = body(size, rng)
        old, new = readable(blocks), readable(revise(blocks, rng, words=300))
        seconds, _diff = timed(lambda old=old, new=new: word_diff(old, new))
        print(f"  {len(old) / 1000:5.0f} KB against {len(new) / 1000:5.0f} KB: {seconds:8.3f} s")

    rng = random.Random(200)
    blocks = body(50_000, rng)
    old, new = readable(blocks), readable(grow(revise(blocks, rng, words=300), rng, size=200_000))
    seconds, _diff = timed(lambda: word_diff(old, new))
    print(f"  {len(old) / 1000:5.0f} KB against {len(new) / 1000:5.0f} KB: {seconds:8.3f} s  (history of a grown page)")


@pytest.mark.django_db
def test_review_screen_for_an_eighty_kilobyte_body(client):
    rng = random.Random(80)
    editor = UserFactory(username="bench-editor", roles=[roles.EDITOR])
    reviewer = UserFactory(username="bench-reviewer", roles=[roles.CLINICAL_REVIEWER])
    blocks = body(80_000, rng)
    page = PageFactory(slug="long-read", title_en="Long read")
    section = SectionFactory(page=page, heading_en="Everything about it", body_en="".join(blocks))
    publish_fixture(page, "en")
    with edited(comment="About 200 words changed", user=editor):
        section.body_en = "".join(revise(blocks, rng, words=200))
        section.save()
    [request] = services.submit(page=page, languages=["en"], user=editor)
    client.force_login(reviewer)

    start = time.perf_counter()
    response = client.get(f"/admin/pages/page/{page.pk}/workflow/review/{request.pk}/")
    seconds = time.perf_counter() - start

    assert response.status_code == 200
    print(f"\nReview screen on {connection.vendor}, one section of {len(section.body_en) / 1000:.0f} KB stored")
    print(f"  with about 200 words changed: {seconds:.3f} s")


@pytest.mark.django_db
def test_history_comparison_of_fifty_against_two_hundred_kilobytes(client):
    rng = random.Random(50)
    editor = UserFactory(username="bench-editor", roles=[roles.EDITOR])
    blocks = body(50_000, rng)
    with edited(comment="A long page as it once was"):
        page = PageFactory(slug="grown", title_en="Grown")
        section = SectionFactory(page=page, heading_en="Everything about it", body_en="".join(blocks))
    old_size = len(section.body_en)
    with edited(comment="Years of additions"):
        section.body_en = "".join(grow(revise(blocks, rng, words=300), rng, size=200_000))
        section.save()
    newest = PageRevision.objects.filter(page=page).order_by("-number").first().number
    client.force_login(editor)

    start = time.perf_counter()
    response = client.get(f"/admin/pages/page/{page.pk}/history/compare/", {"old": 1, "new": newest})
    seconds = time.perf_counter() - start

    assert response.status_code == 200
    print(f"\nHistory comparison on {connection.vendor}, revision 1 against {newest}:")
    print(f"  one section of {old_size / 1000:.0f} KB against {len(section.body_en) / 1000:.0f} KB: {seconds:.3f} s")
