"""Every message of the project's own is translated in every catalogue, and the compiled
catalogues are the ones the .po files make.

The messages are found as the project finds them (its makemessages, which reads ``_t`` too),
merged into a copy of the catalogues in a temporary folder: the real ``locale/`` is never
written. GNU gettext (xgettext, msgmerge, msgfmt) does the extracting and compiling.
"""

import ast
import contextlib
import gettext
import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

LOCALE = Path(settings.BASE_DIR) / "locale"
# As the catalogues are made: nothing from the virtualenv, the tests (and the node_modules
# under them) or collected static files.
IGNORED = [".venv/*", "tests/*", "staticfiles/*", "node_modules/*"]
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib", "msgfmt")
CATALOGUES = sorted(path.parent.parent.name for path in LOCALE.glob("*/LC_MESSAGES/django.po"))

# %(name)s, %s, %d, %.1f ... and %% (which is no placeholder); {} and {name} for str.format.
PERCENT = re.compile(r"%(?:\((\w+)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?([diouxXeEfFgGcrsa%])")
BRACES = re.compile(r"\{(\w*)\}")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return f"{self.msgctxt}|{self.msgid}" if self.msgctxt else self.msgid


@dataclass
class Catalogue:
    header: str
    entries: list[Entry]

    @property
    def nplurals(self) -> int:
        return int(re.search(r"nplurals\s*=\s*(\d+)", self.header)[1])

    @property
    def plural(self) -> str:
        return re.search(r"plural\s*=\s*([^;\n]+)", self.header)[1]


def read_po(path: Path) -> Catalogue:
    """The catalogue's live entries (not obsolete ones), as gettext reads a .po file."""
    entries, entry, key = [], Entry(), None

    def finish():
        nonlocal entry, key
        if key is not None:
            entries.append(entry)
        entry, key = Entry(), None

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            finish()
        elif line.startswith("#~"):
            continue
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            text = ast.literal_eval(line)
            if key == "msgctxt":
                entry.msgctxt += text
            elif key == "msgid":
                entry.msgid += text
            elif key == "msgid_plural":
                entry.msgid_plural += text
            else:
                entry.msgstr[key] += text
        else:
            keyword, _, value = line.partition(" ")
            text = ast.literal_eval(value)
            if keyword in ("msgctxt", "msgid") and key not in (None, "msgctxt"):
                finish()  # an entry without a blank line before the next
            if keyword in ("msgctxt", "msgid", "msgid_plural"):
                setattr(entry, keyword, text)
                key = keyword
            elif keyword == "msgstr":
                key = 0
                entry.msgstr[0] = text
            else:  # msgstr[n]
                key = int(keyword[len("msgstr[") : -1])
                entry.msgstr[key] = text
    finish()
    header = next((e for e in entries if e.msgid == "" and e.msgctxt is None), None)
    return Catalogue(header.msgstr[0] if header else "", [e for e in entries if e is not header])


def untranslated(catalogue: Catalogue) -> list[str]:
    """Each message that readers would see in English: empty, missing a plural form, or fuzzy
    (gettext leaves a fuzzy entry out of the compiled catalogue)."""
    problems = []
    for entry in catalogue.entries:
        forms = range(catalogue.nplurals) if entry.msgid_plural is not None else [0]
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.name!r}")
        elif not all(entry.msgstr.get(form) for form in forms):
            problems.append(f"not translated: {entry.name!r}")
    return problems


def _placeholders(text: str, brace: bool) -> list[str]:
    found = [name or f"%{conversion}" for name, conversion in PERCENT.findall(text) if conversion != "%"]
    if brace:
        found += [f"{{{name}}}" for name in BRACES.findall(text)]
    return found


def misplaced_placeholders(catalogue: Catalogue) -> list[str]:
    """Each translation that drops or invents a placeholder of its message.

    As msgfmt --check-format judges it: a plural form used for a single number ("one page")
    may leave out the count; every other form keeps every placeholder.
    """
    single_number = _forms_for_one_number(catalogue)
    problems = []
    for entry in catalogue.entries:
        brace = "python-brace-format" in entry.flags or bool(BRACES.search(entry.msgid))
        if "python-format" not in entry.flags and not brace:
            continue
        singular = _placeholders(entry.msgid, brace)
        plural = _placeholders(entry.msgid_plural, brace) if entry.msgid_plural is not None else singular
        for form, text in entry.msgstr.items():
            if not text:
                continue  # untranslated() reports it
            have = _placeholders(text, brace)
            if entry.msgid_plural is None:
                expected = singular
            elif form in single_number:
                expected = []
            else:
                expected = plural
            invented = set(have) - set(singular) - set(plural)
            dropped = set(expected) - set(have)
            # %s and %d are filled in order: the translation keeps that order.
            reordered = [p for p in have if p.startswith("%")] != [p for p in expected if p.startswith("%")]
            if invented or dropped or (reordered and expected):
                problems.append(f"{entry.name!r} [{form}]: {text!r}")
    return problems


def _forms_for_one_number(catalogue: Catalogue) -> set[int]:
    plural = gettext.c2py(catalogue.plural)
    numbers: dict[int, int] = {}
    for n in range(1000):
        numbers[plural(n)] = numbers.get(plural(n), 0) + 1
    return {form for form, count in numbers.items() if count == 1}


@pytest.fixture(scope="module")
def gettext_tools():
    missing = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if missing:
        message = f"GNU gettext is not installed ({', '.join(missing)} missing): apt-get install gettext"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{message}, and REQUIRE_BROWSER is set.")
        pytest.skip(message)


@pytest.fixture(scope="module")
def merged(gettext_tools, tmp_path_factory) -> Path:
    """A copy of locale/ with today's messages merged in, as makemessages would leave it.

    makemessages writes to the locale folder it finds beside the sources, whatever
    LOCALE_PATHS says, so it runs in a mirror of the project: its sources linked, its
    locale folder a copy.
    """
    project = tmp_path_factory.mktemp("project")
    for entry in Path(settings.BASE_DIR).iterdir():
        if entry.name != "locale":
            (project / entry.name).symlink_to(entry)
    shutil.copytree(LOCALE, project / "locale")
    before = _fingerprint(LOCALE)
    with contextlib.chdir(project), override_settings(LOCALE_PATHS=[project / "locale"]):
        call_command(
            "makemessages",
            locale=CATALOGUES,
            ignore_patterns=IGNORED,
            symlinks=True,
            verbosity=0,
            stdout=io.StringIO(),
        )
    assert _fingerprint(LOCALE) == before, "makemessages wrote to the real locale folder"
    return project / "locale"


def _fingerprint(folder: Path) -> dict:
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_welsh_and_arabic_have_catalogues():
    assert {"cy", "ar"} <= set(CATALOGUES)


@pytest.mark.parametrize("language", CATALOGUES)
def test_every_message_in_the_code_is_translated(merged, language):
    merged_catalogue = read_po(merged / language / "LC_MESSAGES" / "django.po")
    committed = read_po(LOCALE / language / "LC_MESSAGES" / "django.po")
    new = {e.name for e in merged_catalogue.entries} - {e.name for e in committed.entries}
    assert not new, f"Not yet in locale/{language} (run makemessages): {sorted(new)}"
    assert not untranslated(merged_catalogue), "\n".join(untranslated(merged_catalogue))


@pytest.mark.parametrize("language", CATALOGUES)
def test_the_messages_come_from_the_project_only(merged, language):
    text = (merged / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    sources = set(re.findall(r"^#: (.*)$", text, re.M))
    places = {place.rsplit(":", 1)[0] for line in sources for place in line.split()}
    assert places and not {p for p in places if p.startswith((".venv/", "tests/", "staticfiles/", "node_modules/"))}


@pytest.mark.parametrize("language", CATALOGUES)
def test_every_placeholder_of_a_message_is_in_its_translation(language):
    catalogue = read_po(LOCALE / language / "LC_MESSAGES" / "django.po")
    assert not misplaced_placeholders(catalogue), "\n".join(misplaced_placeholders(catalogue))


@pytest.mark.parametrize("language", CATALOGUES)
def test_the_compiled_catalogue_is_the_one_its_po_file_makes(gettext_tools, tmp_path, language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    fresh = tmp_path / "django.mo"
    compiled = subprocess.run(["msgfmt", "--check-format", "-o", fresh, po], capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stderr

    def messages(path: Path) -> dict:
        with path.open("rb") as file:
            catalogue = gettext.GNUTranslations(file)
        # The header changes with each makemessages (its POT-Creation-Date); its plural rule matters.
        return {key: value for key, value in catalogue._catalog.items() if key != ""} | {
            "Plural-Forms": catalogue.plural(11)
        }

    committed, expected = messages(po.with_suffix(".mo")), messages(fresh)
    stale = sorted(str(key) for key in committed.keys() ^ expected.keys())
    stale += sorted(str(key) for key in committed.keys() & expected.keys() if committed[key] != expected[key])
    assert not stale, f"locale/{language}/LC_MESSAGES/django.mo is out of date (run compilemessages): {stale}"


def test_the_checks_find_an_empty_a_fuzzy_and_a_half_translated_message_and_a_lost_placeholder(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        r"""msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

msgid "Save"
msgstr "Cadw"

msgid "Cancel"
msgstr ""

#, fuzzy
msgid "Publish"
msgstr "Cyhoeddi"

#, python-format
msgid "%(count)s page"
msgid_plural "%(count)s pages"
msgstr[0] "%(count)s dudalen"
msgstr[1] ""

#, python-format
msgid "Hello %(name)s,"
msgstr "Helo,"

msgctxt "diff"
msgid "removed:"
msgstr ""

#~ msgid "Gone"
#~ msgstr ""
""",
        encoding="utf-8",
    )
    catalogue = read_po(po)
    assert untranslated(catalogue) == [
        "not translated: 'Cancel'",
        "fuzzy: 'Publish'",
        "not translated: '%(count)s page'",
        "not translated: 'diff|removed:'",
    ]
    assert misplaced_placeholders(catalogue) == ["'Hello %(name)s,' [0]: 'Helo,'"]


def test_a_form_for_one_number_may_spell_the_number_out_but_no_other_may():
    catalogue = Catalogue(
        "Plural-Forms: nplurals=3; plural=n==1 ? 0 : n==2 ? 1 : 2;\n",
        [
            Entry("%(n)s day", None, "%(n)s days", {0: "يوم واحد", 1: "يومان", 2: "%(n)s أيام"}, {"python-format"}),
            Entry("%(n)s hour", None, "%(n)s hours", {0: "ساعة", 1: "ساعتان", 2: "ساعات"}, {"python-format"}),
            Entry("%(n)s week", None, "%(n)s weeks", {0: "%(n)s", 1: "%(n)s", 2: "%(m)s"}, {"python-format"}),
        ],
    )
    assert misplaced_placeholders(catalogue) == ["'%(n)s hour' [2]: 'ساعات'", "'%(n)s week' [2]: '%(m)s'"]
