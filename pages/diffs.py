"""Comparing two revisions of a page: per field, per language, word by word.

Built on the standard library's difflib. Every piece of text is escaped before
it is marked up, so a diff can never inject markup into the admin.
"""

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from pages import languages, richtext
from pages.history import STRUCTURE_FIELDS, PageState

TOKEN = re.compile(r"\n|[^\S\n]+|\w+|[^\w\s]", re.UNICODE)


def word_diff(old: str, new: str) -> SafeString:
    """HTML showing ``new`` against ``old``: removed words in <del>, added in <ins>."""
    old_tokens, new_tokens = TOKEN.findall(old or ""), TOKEN.findall(new or "")
    parts = []
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    for operation, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        removed = escape("".join(old_tokens[old_start:old_end]))
        added = escape("".join(new_tokens[new_start:new_end]))
        if operation == "equal":
            parts.append(added)
            continue
        if removed:
            parts.append(f"<del>{removed}</del>")
        if added:
            parts.append(f"<ins>{added}</ins>")
    # Every part was escaped above; only <del>, <ins> and <br> are ours.
    return mark_safe("".join(parts).replace("\n", "<br>"))


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
