"""Comparing two revisions of a page: per field, per language, word by word.

Built on the standard library's difflib. Every piece of text is escaped before
it is marked up, so a diff can never inject markup into the admin.
"""

import bisect
import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from pages import languages, richtext
from pages.history import STRUCTURE_FIELDS, PageState

TOKEN = re.compile(r"\n|[^\S\n]+|\w+|[^\w\s]", re.UNICODE)
# A line with the blank lines after it, so that blank lines, the commonest lines
# of all, never match on their own; a sentence and a clause, never across a line break.
LINE = re.compile(r"[^\n]*\n*")
SENTENCE = re.compile(r"[^\n]*?(?:[.!?]+[^\S\n]+|\n+|\Z)")
CLAUSE = re.compile(r"[^\n]*?(?:[,;:]+[^\S\n]+|\n+|\Z)")
WORD = re.compile(r"\w+")

# The most token pairs one word-by-word comparison may weigh. Its time grows with
# the product of the two lengths (spaces and common words match everywhere), so a
# longer changed passage is compared line by line, then by sentence, then by clause,
# and past that shown as removed and added whole. Each token is weighed in at most
# one comparison, so the word-level work stays under MAX_TOKEN_PAIRS ** 0.5 per token.
MAX_TOKEN_PAIRS = 40_000
# Lines and sentences are lined up by those found once in each text; between two
# such anchors, a stretch of at most MAX_PIECE_PAIRS pairs of pieces is matched by
# difflib (past that it is taken as changed throughout), and within a changed run
# of at most MAX_SIMILAR_PAIRS pairs each piece is paired with the one it most
# resembles (each weighing costs the words of the smaller piece).
MAX_PIECE_PAIRS = 250_000
MAX_SIMILAR_PAIRS = 2_500

Change = tuple[str, str]  # ("equal", "delete" or "insert", text)
Splitters = tuple[Callable[[str], list[str]], ...]  # coarsest first: lines, sentences, clauses


def word_diff(old: str, new: str) -> SafeString:
    """HTML showing ``new`` against ``old``: removed words in <del>, added in <ins>.

    Each change also says what it is in words ("removed: … end of removal", out
    of sight but read by a screen reader), since colour and a line through a full stop are
    easy to miss. Long texts are compared line by line first and word by word only
    inside the lines that changed, so the time grows with their length, not its square.
    """
    parts, removed, added = [], [], []
    # Words, not brackets: a screen reader's default settings skip most punctuation.
    words = {
        "del": (pgettext("diff", "removed:"), pgettext("diff", "end of removal")),
        "ins": (pgettext("diff", "added:"), pgettext("diff", "end of addition")),
    }

    def close_change():
        for tag, text in (("del", removed), ("ins", added)):
            if text:
                start, end = words[tag]
                parts.append(f"<{tag}>{label(f'{start} ')}{escape(''.join(text))}{label(f' {end}')}</{tag}>")
        removed.clear()
        added.clear()

    for kind, text in _changes(old or "", new or "", (_lines, _sentences, _clauses)):
        if not text:
            continue
        if kind == "equal":
            close_change()
            parts.append(escape(text))
        else:
            (removed if kind == "delete" else added).append(text)
    close_change()
    # Every part was escaped above; only <del>, <ins>, their labels and <br> are ours.
    return mark_safe("".join(parts).replace("\n", "<br>"))


def label(words: str) -> str:
    """Words for a screen reader inside a change: on the page, but out of sight."""
    return f'<span class="diff-label">{escape(words)}</span>'


def _changes(old: str, new: str, splitters: Splitters) -> Iterator[Change]:
    """``old`` turned into ``new``: word by word when that is cheap enough, else by
    the first of ``splitters`` and then the rest inside each changed piece."""
    if old == new:
        yield "equal", old
        return
    if not old or not new:
        yield "delete", old
        yield "insert", new
        return
    old_tokens, new_tokens = TOKEN.findall(old), TOKEN.findall(new)
    if len(old_tokens) * len(new_tokens) <= MAX_TOKEN_PAIRS:
        yield from _token_changes(old_tokens, new_tokens)
        return
    # What the two share at either end costs nothing to compare; one edit in a long text stops here.
    head = _shared_length(old_tokens, new_tokens)
    tail = _shared_length(old_tokens[head:][::-1], new_tokens[head:][::-1])
    old_middle = old_tokens[head : len(old_tokens) - tail]
    new_middle = new_tokens[head : len(new_tokens) - tail]
    yield "equal", "".join(old_tokens[:head])
    if len(old_middle) * len(new_middle) <= MAX_TOKEN_PAIRS:
        yield from _token_changes(old_middle, new_middle)
    elif splitters:
        yield from _piece_changes("".join(old_middle), "".join(new_middle), splitters)
    else:
        yield "delete", "".join(old_middle)
        yield "insert", "".join(new_middle)
    yield "equal", "".join(old_tokens[len(old_tokens) - tail :])


def _token_changes(old_tokens: list[str], new_tokens: list[str]) -> Iterator[Change]:
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    for operation, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if operation == "equal":
            yield "equal", "".join(old_tokens[old_start:old_end])
        else:
            yield "delete", "".join(old_tokens[old_start:old_end])
            yield "insert", "".join(new_tokens[new_start:new_end])


def _piece_changes(old: str, new: str, splitters: Splitters) -> Iterator[Change]:
    split, finer = splitters[0], splitters[1:]
    old_pieces, new_pieces = split(old), split(new)
    old_next = new_next = 0
    for old_index, new_index in [*_anchors(old_pieces, new_pieces), (len(old_pieces), len(new_pieces))]:
        yield from _stretch_changes(old_pieces[old_next:old_index], new_pieces[new_next:new_index], finer)
        if old_index < len(old_pieces):
            yield "equal", old_pieces[old_index]
        old_next, new_next = old_index + 1, new_index + 1


def _anchors(old_pieces: list[str], new_pieces: list[str]) -> list[tuple[int, int]]:
    """Where pieces found once in each text line up, in an order both agree on: the
    longest such chain (as in patience diff). Between two anchors nothing can have
    moved, so the texts are matched one stretch at a time."""
    old_counts, new_counts = Counter(old_pieces), Counter(new_pieces)
    new_place = {piece: index for index, piece in enumerate(new_pieces) if new_counts[piece] == 1}
    unique = [
        (i, new_place[piece]) for i, piece in enumerate(old_pieces) if old_counts[piece] == 1 and piece in new_place
    ]
    # The longest chain increasing in both texts: patience sorting, then back along the links.
    tops: list[int] = []  # for each chain length, the new place that ends the best chain so far
    ends: list[int] = []  # for each chain length, the index into ``unique`` ending it
    links: list[int | None] = []
    for position, (_old_index, new_index) in enumerate(unique):
        length = bisect.bisect_left(tops, new_index)
        links.append(ends[length - 1] if length else None)
        if length == len(tops):
            tops.append(new_index)
            ends.append(position)
        else:
            tops[length], ends[length] = new_index, position
    chain, position = [], ends[-1] if ends else None
    while position is not None:
        chain.append(unique[position])
        position = links[position]
    return chain[::-1]


def _stretch_changes(old_run: list[str], new_run: list[str], finer: Splitters) -> Iterator[Change]:
    """Pieces between two anchors: what they still share, then the changed runs."""
    if not old_run or not new_run or len(old_run) * len(new_run) > MAX_PIECE_PAIRS:
        yield from _run_changes(old_run, new_run, finer)
        return
    # With autojunk a piece repeated all over (a "• Yes" in every list) still
    # matches next to its neighbours but never anchors a match alone.
    matcher = difflib.SequenceMatcher(a=old_run, b=new_run, autojunk=True)
    for operation, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if operation == "equal":
            yield "equal", "".join(old_run[old_start:old_end])
        else:
            yield from _run_changes(old_run[old_start:old_end], new_run[new_start:new_end], finer)


def _run_changes(old_run: list[str], new_run: list[str], finer: Splitters) -> Iterator[Change]:
    """A run of changed pieces: each compared with the piece it most resembles, the
    pieces between such pairs together, so that a paragraph inserted next to an
    edited one leaves the edit shown word by word."""
    if len(old_run) * len(new_run) <= MAX_SIMILAR_PAIRS:
        pairs = _similar_pairs(old_run, new_run)
    else:
        pairs = list(enumerate(range(len(new_run)))) if len(old_run) == len(new_run) else []
    old_next = new_next = 0
    for old_index, new_index in [*pairs, (len(old_run), len(new_run))]:
        yield from _changes("".join(old_run[old_next:old_index]), "".join(new_run[new_next:new_index]), finer)
        if old_index < len(old_run):
            yield from _changes(old_run[old_index], new_run[new_index], finer)
        old_next, new_next = old_index + 1, new_index + 1


def _similar_pairs(old_pieces: list[str], new_pieces: list[str]) -> list[tuple[int, int]]:
    """Pairs of pieces in which at least half the words, counting both, are shared:
    in order, and as alike in all as can be (a Needleman-Wunsch alignment)."""
    old_words = [Counter(WORD.findall(piece)) for piece in old_pieces]
    new_words = [Counter(WORD.findall(piece)) for piece in new_pieces]
    old_sizes = [words.total() for words in old_words]
    new_sizes = [words.total() for words in new_words]
    score = [[0.0] * (len(new_pieces) + 1) for _ in range(len(old_pieces) + 1)]
    for i, (before, before_size) in enumerate(zip(old_words, old_sizes, strict=True)):
        for j, (after, after_size) in enumerate(zip(new_words, new_sizes, strict=True)):
            best = max(score[i][j + 1], score[i + 1][j])
            total = before_size + after_size
            # Fewer words on one side than a third of the other: they cannot share half.
            if total and 4 * min(before_size, after_size) >= total:
                shared = (before & after if len(before) <= len(after) else after & before).total()
                if 4 * shared >= total:
                    best = max(best, score[i][j] + 2 * shared / total)
            score[i + 1][j + 1] = best
    pairs, i, j = [], len(old_pieces), len(new_pieces)
    while i and j:
        if score[i][j] == score[i - 1][j]:
            i -= 1
        elif score[i][j] == score[i][j - 1]:
            j -= 1
        else:
            i, j = i - 1, j - 1
            pairs.append((i, j))
    return pairs[::-1]


def _shared_length(a: list[str], b: list[str]) -> int:
    """How many tokens ``a`` and ``b`` share at their start."""
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return index
    return min(len(a), len(b))


def _lines(text: str) -> list[str]:
    return [line for line in LINE.findall(text) if line]


def _sentences(text: str) -> list[str]:
    return [sentence for sentence in SENTENCE.findall(text) if sentence]


def _clauses(text: str) -> list[str]:
    return [clause for clause in CLAUSE.findall(text) if clause]


@dataclass
class FieldChange:
    label: str
    language: str
    diff: SafeString
    is_changed: bool


@dataclass
class SectionChange:
    status: str  # "added", "removed", "moved", "changed" or "unchanged"
    heading: str
    old_position: int | None
    new_position: int | None
    fields: list[FieldChange] = field(default_factory=list)


@dataclass
class Comparison:
    page_fields: list[FieldChange]
    structure: list[str]
    sections: list[SectionChange]

    @property
    def unchanged_page_fields(self) -> int:
        return sum(not f.is_changed for f in self.page_fields)

    @property
    def is_empty(self) -> bool:
        return (
            not self.structure
            and not any(f.is_changed for f in self.page_fields)
            and all(s.status == "unchanged" for s in self.sections)
        )


def compare(
    old: PageState,
    new: PageState,
    *,
    label_for_page: Callable[[int], str],
    label_for_user: Callable[[int], str] = str,
) -> Comparison:
    """What changed from ``old`` to ``new``: the page's fields, its place, and
    each section (added, removed, moved or changed), in every language."""

    def text(values: dict, name: str, code: str) -> str:
        value = values.get(f"{name}_{code}") or ""
        return richtext.readable(value, label_for_page=label_for_page) if name == "body" else value

    def changes(old_values: dict, new_values: dict, names: dict[str, str]) -> list[FieldChange]:
        result = []
        for code in languages.codes():
            for name, label in names.items():
                before, after = text(old_values, name, code), text(new_values, name, code)
                if before or after:
                    result.append(FieldChange(label, code, word_diff(before, after), before != after))
        return result

    page_fields = changes(old.page, new.page, {"title": _("Title"), "summary": _("Summary")})
    structure = _structure_changes(old.page, new.page, label_for_page, label_for_user)

    old_ids = [s["id"] for s in old.sections]
    new_ids = [s["id"] for s in new.sections]
    common_old = [pk for pk in old_ids if pk in new_ids]
    common_new = [pk for pk in new_ids if pk in old_ids]
    matcher = difflib.SequenceMatcher(a=common_old, b=common_new, autojunk=False)
    stayed = {pk for block in matcher.get_matching_blocks() for pk in common_old[block.a : block.a + block.size]}
    old_by_id = {s["id"]: s for s in old.sections}
    new_by_id = {s["id"]: s for s in new.sections}
    names = {"heading": _("Heading"), "body": _("Text")}
    source = languages.source()

    sections = []
    for position, section in enumerate(new.sections, start=1):
        before = old_by_id.get(section["id"])
        fields = changes(before or {}, section, names)
        if before is None:
            status = "added"
        elif section["id"] not in stayed:
            status = "moved"
        else:
            status = "changed" if any(f.is_changed for f in fields) else "unchanged"
        old_position = old_ids.index(section["id"]) + 1 if before else None
        sections.append(SectionChange(status, section.get(f"heading_{source}") or "", old_position, position, fields))
    for position, section in enumerate(old.sections, start=1):
        if section["id"] not in new_by_id:
            fields = changes(section, {}, names)
            sections.append(SectionChange("removed", section.get(f"heading_{source}") or "", position, None, fields))
    return Comparison(page_fields, structure, sections)


def _structure_changes(
    old: dict, new: dict, label_for_page: Callable[[int], str], label_for_user: Callable[[int], str]
) -> list[str]:
    labels = {
        "parent_id": _("Placed under"),
        "slug": _("Address (slug)"),
        "position": _("Position among its siblings"),
        "owner_id": _("Owner"),
        "related": _("Related pages"),
        "is_sample_content": _("Sample content"),
    }
    result = []
    for name in STRUCTURE_FIELDS:
        before, after = old.get(name), new.get(name)
        if name == "related":
            before, after = sorted(before or []), sorted(after or [])
        if before == after:
            continue
        if name == "parent_id":
            before, after = (label_for_page(v) if v else _("the top level") for v in (before, after))
        elif name == "related":
            before, after = (", ".join(label_for_page(pk) for pk in v) or "—" for v in (before, after))
        elif name == "owner_id":
            before, after = (label_for_user(v) if v else "—" for v in (before, after))
        result.append(f"{labels[name]}: {before} → {after}")
    return result
