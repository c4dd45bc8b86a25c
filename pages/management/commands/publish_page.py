import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from pages.models import Page
from pages.publishing import PublishingError, publish_page


def parse_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date: use YYYY-MM-DD, such as 2025-03-11.") from None


class Command(BaseCommand):
    help = "Make the current wording of a page live in one or more languages."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The page's path, such as neuroendocrine-cancer/glucagonoma.")
        parser.add_argument(
            "--language", action="append", dest="languages", required=True, help="Repeat for each language."
        )
        parser.add_argument("--signed-off-by", required=True, help="Name of the clinical reviewer.")
        parser.add_argument("--last-reviewed", type=parse_date, help="YYYY-MM-DD; default today.")
        parser.add_argument("--next-review-due", type=parse_date, help="YYYY-MM-DD; default 3 years on.")
        parser.add_argument("--by", help="Username of the person publishing.")

    def handle(self, *args, path, languages, signed_off_by, last_reviewed, next_review_due, by, **options):
        page = Page.objects.filter(path=path.strip("/")).first()
        if page is None:
            raise CommandError(f"No page at {path!r}.")
        published_by = None
        if by:
            published_by = get_user_model().objects.filter(username=by).first()
            if published_by is None:
                raise CommandError(f"No user {by!r}.")
        last_reviewed = last_reviewed or timezone.localdate()
        if next_review_due is None:
            next_review_due = last_reviewed.replace(year=last_reviewed.year + 3)
        try:
            snapshots = publish_page(
                page=page,
                languages=languages,
                last_reviewed=last_reviewed,
                next_review_due=next_review_due,
                signed_off_by=signed_off_by,
                published_by=published_by,
            )
        except PublishingError as error:
            raise CommandError(str(error)) from None
        for snapshot in snapshots:
            self.stdout.write(f"Live: /{snapshot.language}/{snapshot.path}/")
