"""Word diffs: what was removed in <del>, what was added in <ins>, every other
character escaped; and on long texts a bounded amount of word-by-word work."""

import difflib
import html
import random
import re
from math import isqrt

import pytest
from django.utils import translation
from django.utils.html import escape
from hypothesis import assume, given
from hypothesis import strategies as st

from pages import diffs
from pages.diffs import word_diff

OUR_TAGS = re.compile(r"</?(?:del|ins)>|<br>")
LABEL = re.compile(r'<span class="diff-label">[^<]*</span>')
FRAGMENTS = ["the", "tumour", "Glucagon", "NETs", "6", "é", "ß", " ", "  ", "\t", "\r", "\n", "\n\n", "\n\n\n",
             ".", ". ", "! ", "? ", ",", "• ", "- ", "<", ">", "&", '"', "'", "&amp;", "<br>", "<del>",
             "</ins>"]  # fmt: skip
SUBJECTS = ["Glucagonomas", "Most pancreatic NETs", "These tumours", "Functioning NETs", "Some glucagonomas",
            "Small tumours", "Tumours in the tail of the pancreas", "Neuroendocrine cancers"]  # fmt: skip
PREDICATES = ["usually make large amounts of glucagon", "start in the islet cells of the pancreas", "grow slowly",
              "can spread to the liver", "cause a rash called necrolytic migratory erythema", "are found on a scan",
              "raise the blood sugar level", "are removed with surgery", "need regular follow up appointments",
              "respond to somatostatin analogues"]  # fmt: skip
ENDINGS = ["", " in most people", " over many years", " before they are found", " after treatment", " in the end"]


def unlabelled(diff: str) -> str:
    """A diff without the words that tell a screen reader where each change starts and ends."""
    return LABEL.sub("", diff)


def without(tag: str, diff: str) -> str:
    """The text a diff stands for once every <tag>…</tag> is dropped."""
    diff = unlabelled(diff)
    other = "ins" if tag == "del" else "del"
    kept = re.sub(rf"<{tag}>.*?</{tag}>", "", diff, flags=re.S)
    return html.unescape(kept.replace(f"<{other}>", "").replace(f"</{other}>", "").replace("<br>", "\n"))


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(PREDICATES)}{rng.choice(ENDINGS)}."


def long_text(rng: random.Random, size: int = 80_000, sentences=sentence) -> list[str]:
    """Paragraphs and lists of clinical prose, about ``size`` characters once joined by blank lines."""
    blocks, length = [], 0
    while length < size:
        parts = [sentences(rng) for _ in range(rng.randint(2, 5))]
        if rng.random() < 0.2:
            blocks.append("In short:\n" + "\n".join(f"• {part}" for part in parts))
        else:
            blocks.append(" ".join(parts))
        length += len(blocks[-1]) + 2
    return blocks


def with_words_changed(blocks: list[str], rng: random.Random, count: int) -> tuple[list[str], list[tuple]]:
    """``blocks`` with ``count`` words each replaced in a block of its own: which block, which word, and by what."""
    blocks, changes = list(blocks), []
    for index in sorted(rng.sample(range(len(blocks)), count)):
        word = rng.choice(list(re.finditer(r"\b[a-z]{5,}\b", blocks[index])))
        replacement = word[0].upper()
        blocks[index] = blocks[index][: word.start()] + replacement + blocks[index][word.end() :]
        changes.append((index, word[0], replacement))
    return blocks, changes


@st.composite
def revisions(draw) -> tuple[str, str]:
    """A text and a revision of it: fragments inserted, deleted and replaced."""
    fragments = st.sampled_from(FRAGMENTS) | st.text(max_size=4)
    old = draw(st.lists(fragments, max_size=60))
    new = list(old)
    for _ in range(draw(st.integers(0, 6))):
        index = draw(st.integers(0, len(new)))
        new[index : index + draw(st.integers(0, 3))] = draw(st.lists(fragments, max_size=3))
    return "".join(old), "".join(new)


texts = st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join) | st.text(max_size=60)
pairs = revisions() | st.tuples(texts, texts)
# The budgets as shipped, and tiny ones that send short texts down the paths long
# ones take: by line, sentence and clause, paired by likeness, and shown whole.
budgets = st.sampled_from(
    [(diffs.MAX_TOKEN_PAIRS, diffs.MAX_PIECE_PAIRS, diffs.MAX_SIMILAR_PAIRS), (1, 1, 1), (6, 4, 2), (40, 30, 4)]
)


def diff_within(budget: tuple[int, int, int], old: str, new: str) -> str:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in zip(("MAX_TOKEN_PAIRS", "MAX_PIECE_PAIRS", "MAX_SIMILAR_PAIRS"), budget, strict=True):
            patch.setattr(diffs, name, value)
        return word_diff(old, new)


@given(pair=pairs, budget=budgets)
def test_dropping_the_insertions_gives_the_old_text_and_dropping_the_deletions_the_new(pair, budget):
    old, new = pair
    diff = diff_within(budget, old, new)
    assert without("ins", diff) == old
    assert without("del", diff) == new


@given(pair=pairs, budget=budgets)
def test_a_diff_holds_no_markup_but_del_ins_and_br(pair, budget):
    diff = unlabelled(diff_within(budget, *pair))
    assert "<" not in OUR_TAGS.sub("", diff) and ">" not in OUR_TAGS.sub("", diff)
    # Each <del> and <ins> is closed before the next opens, and none is empty.
    tags = re.findall(r"</?(?:del|ins)>", diff)
    assert tags == [tag for name in tags[::2] for tag in (name, name.replace("<", "</"))]
    assert "<del></del>" not in diff and "<ins></ins>" not in diff


@given(text=texts | revisions().map(lambda pair: pair[1]), budget=budgets)
def test_identical_texts_are_shown_escaped_without_changes(text, budget):
    diff = diff_within(budget, text, text)
    assert "<del>" not in diff and "<ins>" not in diff
    assert html.unescape(diff.replace("<br>", "\n")) == text


@given(pair=pairs)
def test_short_texts_get_the_diff_of_one_comparison_over_all_their_words(pair):
    # As word_diff did before it learnt to split long texts.
    old_tokens, new_tokens = diffs.TOKEN.findall(pair[0]), diffs.TOKEN.findall(pair[1])
    assume(len(old_tokens) * len(new_tokens) <= diffs.MAX_TOKEN_PAIRS)
    expected = []
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    for operation, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        removed, added = "".join(old_tokens[old_start:old_end]), "".join(new_tokens[new_start:new_end])
        if operation == "equal":
            expected.append(escape(added))
        else:
            expected.append(f"<del>{escape(removed)}</del>" if removed else "")
            expected.append(f"<ins>{escape(added)}</ins>" if added else "")
    assert unlabelled(word_diff(*pair)) == "".join(expected).replace("\n", "<br>")


def test_short_texts_are_compared_word_by_word():
    assert (
        unlabelled(word_diff("Brech ar y croen.", "Cosi ar y croen.")) == "<del>Brech</del><ins>Cosi</ins> ar y croen."
    )
    assert unlabelled(word_diff("A rash & <pain>.", "A rash.\n\nPain.")) == (
        "A rash<del> &amp; &lt;pain&gt;</del>.<ins><br><br>Pain.</ins>"
    )


def test_each_change_says_in_words_where_it_starts_and_ends():
    # Without colour "Doctors" replaced by "Specialists" read "DoctorsSpecialists",
    # and "2.5" replaced by "25" read "2.525"; a screen reader said nothing at all.
    diff = word_diff("Doctors give 2.5 mg.", "Specialists give 25 mg")
    spoken = re.sub(r"<[^>]+>", "", diff)
    assert spoken == (
        "removed: Doctors end of removal" "added: Specialists end of addition"
        " give removed: 2.5 end of removal" "added: 25 end of addition"
        " mg" "removed: . end of removal"
    )  # fmt: skip
    # Every change opens and closes with its words, which are never themselves marked up.
    for tag, start, end in (("del", "removed: ", " end of removal"), ("ins", "added: ", " end of addition")):
        for content in re.findall(rf"<{tag}>(.*?)</{tag}>", diff):
            assert content.startswith(f'<span class="diff-label">{start}</span>')
            assert content.endswith(f'<span class="diff-label">{end}</span>')


def test_the_words_are_in_the_admins_language():
    with translation.override("cy"):
        diff = word_diff("Brech", "Cosi")
    with translation.override("en"):
        english = word_diff("Brech", "Cosi")
    assert diff != english and "removed:" not in diff and "Brech" in diff


def test_one_changed_word_in_a_long_text_is_marked_alone():
    old = "\n\n".join(long_text(random.Random(1)))
    middle = old.index(" glucagon.", len(old) // 2) + 1
    new = old[:middle] + "insulin" + old[middle + len("glucagon") :]
    diff = unlabelled(word_diff(old, new))
    assert re.findall(r"<(?:del|ins)>.*?</(?:del|ins)>", diff) == ["<del>glucagon</del>", "<ins>insulin</ins>"]


def test_words_changed_all_over_a_long_text_are_each_marked_alone():
    rng = random.Random(2)
    blocks = long_text(rng)
    changed, changes = with_words_changed(blocks, rng, 200)
    # A paragraph deleted and one inserted, each next to an edited one.
    edited = {index for index, _old, _new in changes}
    gone = next(index + 1 for index, _old, _new in changes[1:] if index + 1 not in edited)
    del changed[gone]
    changed.insert(changes[0][0] + 1, "A new paragraph about follow up appointments.")
    diff = unlabelled(word_diff("\n\n".join(blocks), "\n\n".join(changed)))
    removed = re.findall(r"<del>(.*?)</del>", diff)
    added = re.findall(r"<ins>(.*?)</ins>", diff)
    assert [word for word in removed if "<br>" not in word] == [word for _index, word, _new in changes]
    assert [word for word in added if "<br>" not in word] == [new for _index, _old, new in changes]
    assert len(removed) == len(changes) + 1 and len(added) == len(changes) + 1


# Prose, and the same three sentences over and over, where no line or sentence is rare enough to anchor a match.
@pytest.mark.parametrize("sentences", [sentence, lambda rng: rng.choice(PREDICATES[:3]).capitalize() + "."])
def test_word_by_word_work_on_long_texts_is_bounded(monkeypatch, sentences):
    rng = random.Random(3)
    blocks = long_text(rng, sentences=sentences)
    changed, _changes = with_words_changed(blocks, rng, 300)
    for _ in range(10):
        changed.insert(rng.randrange(len(changed)), " ".join(sentences(rng) for _ in range(4)))
        del changed[rng.randrange(len(changed))]
    old, new = "\n\n".join(blocks), "\n\n".join(changed)
    matchers = []

    class RecordingMatcher(difflib.SequenceMatcher):
        def __init__(self, isjunk=None, a="", b="", autojunk=True):
            super().__init__(isjunk, a, b, autojunk)
            matchers.append((list(a), list(b), autojunk))

    monkeypatch.setattr(difflib, "SequenceMatcher", RecordingMatcher)
    diff = word_diff(old, new)

    assert without("ins", diff) == old and without("del", diff) == new
    # Words are weighed with autojunk off; whole lines and sentences with it on.
    words = [(len(a), len(b)) for a, b, autojunk in matchers if not autojunk]
    pieces = [a + b for a, b, autojunk in matchers if autojunk]
    assert words and pieces
    assert max(m * n for m, n in words) <= diffs.MAX_TOKEN_PAIRS
    assert max(len(a) * len(b) for a, b, autojunk in matchers if autojunk) <= diffs.MAX_PIECE_PAIRS
    # No token is weighed twice, so the total grows with the length of the texts.
    tokens = len(diffs.TOKEN.findall(old)) + len(diffs.TOKEN.findall(new))
    assert sum(m * n for m, n in words) <= isqrt(diffs.MAX_TOKEN_PAIRS) * tokens // 2
    assert all("\n" not in piece.rstrip("\n") for run in pieces for piece in run)


def test_a_long_changed_passage_without_sentences_is_shown_removed_and_added_whole():
    rng = random.Random(4)
    words = [rng.choice(["tumour", "glucagon", "pancreas", "scan", "rash"]) for _ in range(20_000)]
    changed = ["SCAN" if index % 1000 == 500 else word for index, word in enumerate(words)]
    old, new = " ".join(words), " ".join(changed)
    diff = unlabelled(word_diff(old, new))
    assert without("ins", diff) == old and without("del", diff) == new
    assert diff.count("<del>") == 1 and diff.count("<ins>") == 1
    assert diff.startswith(" ".join(words[:500]) + " <del>")
