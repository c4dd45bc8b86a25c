import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from modeltranslation.utils import build_localized_fieldname

from pages import history, languages
from pages.models import Page, Section
from pages.publishing import PublishingError
from review import roles, services

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "content.json"
# Who submits, signs off and publishes the sample pages: accounts with no password.
SAMPLE_ACCOUNTS = [
    ("sample-editor", "Sample Editor", "(demonstration data)", "Editor"),
    ("sample-reviewer", "Sample Reviewer", "(demonstration data)", "Clinical reviewer"),
    ("sample-publisher", "Sample Publisher", "(demonstration data)", "Publisher"),
]


class Command(BaseCommand):
    help = (
        "Load the sample pages (the glucagonoma page and its neighbours) and publish them. "
        "Pages that already exist are left exactly as they are, so running it twice changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=DEMO_FILE, help="A content file in the demo format.")
        parser.add_argument("--owner", help="Username of the user who owns the new pages.")

    def handle(self, *args, file, owner, **options):
        data = self.read(file)
        owner_user = None
        if owner:
            owner_user = get_user_model().objects.filter(username=owner).first()
            if owner_user is None:
                raise CommandError(f"No user {owner!r} to own the demo pages.")
        try:
            with transaction.atomic():
                with history.revision(user=None, comment="Loaded the demo content"):
                    created = self.load(data["pages"], owner_user)
                self.publish(created)
        except ValidationError as error:
            raise CommandError(f"The demo content is not valid; nothing was loaded. {error}") from None
        except PublishingError as error:
            raise CommandError(f"The demo content could not be published; nothing was loaded. {error}") from None
        self.stdout.write(f"Demo content: {len(created)} pages created, {len(data['pages']) - len(created)} existed.")

    def read(self, file: Path) -> dict:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        except json.JSONDecodeError as error:
            raise CommandError(f"{file} is not valid JSON: {error}.") from None
        if not isinstance(data, dict) or not isinstance(data.get("pages"), list):
            raise CommandError(f'{file} must hold an object with a "pages" list.')
        for number, entry in enumerate(data["pages"], start=1):
            if not isinstance(entry, dict) or not entry.get("path") or not entry.get("title", {}).get("en"):
                raise CommandError(f"Page {number} in {file} needs a path and an English title.")
        return data

    def load(self, entries: list[dict], owner) -> list[tuple[Page, dict]]:
        by_path = {page.path: page for page in Page.objects.filter(path__in=[e["path"] for e in entries])}
        created: list[tuple[Page, dict]] = []
        for position, entry in enumerate(entries):
            path = entry["path"]
            if path in by_path:
                self.stdout.write(f"  exists, left as it is: {path}")
                continue
            parent_path, _slash, slug = path.rpartition("/")
            if parent_path and parent_path not in by_path:
                raise CommandError(f"{path}: its parent {parent_path} must come earlier in the file.")
            page = Page(parent=by_path.get(parent_path), slug=slug, position=position, owner=owner)
            page.is_sample_content = True
            self.set_translations(page, entry, ("title", "summary"), path)
            page.full_clean(exclude=["title", "summary"])
            page.save()
            by_path[path] = page
            created.append((page, entry))
            self.stdout.write(f"  created: {path}")

        # Sections come second, so that links between new pages resolve.
        for page, entry in created:
            for position, data in enumerate(entry.get("sections", [])):
                section = Section(page=page, position=position)
                self.set_translations(section, data, ("heading", "body"), f"{page.path}, section {position + 1}")
                try:
                    section.full_clean(exclude=["heading", "body"])
                except ValidationError as error:
                    raise CommandError(f"{page.path}, section {position + 1}: {error}") from None
                section.save()
            page.related.set(by_path[related] for related in entry.get("related", []))

        return created

    def publish(self, created: list[tuple[Page, dict]]) -> None:
        """Put the sample pages live the only way wording goes live: submitted, signed off
        and published, by sample accounts that no one can sign in with."""
        try:
            editor, reviewer, publisher = (roles.sample_account(*account) for account in SAMPLE_ACCOUNTS)
        except roles.RoleMissing as error:
            raise CommandError(str(error)) from None
        source = languages.source()
        for page, entry in created:
            if not (publish := entry.get("publish")):
                continue
            # The source language first: the others fall back on its live wording.
            for code in sorted(publish["languages"], key=lambda code: code != source):
                try:
                    (request,) = services.submit(page=page, languages=[code], user=editor, comment="Sample content")
                    services.approve(request=request, user=reviewer, comment="Sample content")
                    services.publish(request=request, user=publisher)
                except services.WorkflowError as error:
                    raise CommandError(
                        f"{page.path} [{code}] could not be published; nothing was loaded. {error}"
                    ) from None
            self.stdout.write(f"  published {', '.join(publish['languages'])}: {page.path}")

    def set_translations(self, obj, data: dict, fields: tuple[str, ...], where: str) -> None:
        for field in fields:
            for language, text in data.get(field, {}).items():
                if not languages.is_known(language):
                    raise CommandError(f"{where}: unknown language {language!r} in its {field}.")
                setattr(obj, build_localized_fieldname(field, language), text)
