import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pages import languages, snapshots
from review import scale


class Command(BaseCommand):
    help = (
        "Add N sample pages in a realistic tree (hubs with hundreds of pages), each signed off and live in "
        "the given languages, for measuring the site at scale. Refuses to run with DEBUG off."
    )

    def add_arguments(self, parser):
        parser.add_argument("--pages", type=int, required=True, help="How many pages to add.")
        parser.add_argument(
            "--languages",
            default=",".join(languages.codes()),
            help="Comma-separated languages each page goes live in; the source language must be one "
            "(default: all the site's languages).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="Processes that render the pages (default: one per processor).",
        )
        parser.add_argument(
            "--hub-size",
            type=int,
            default=scale.CHILDREN_PER_HUB,
            help=f"Pages below each hub (default {scale.CHILDREN_PER_HUB}).",
        )
        parser.add_argument("--batch", type=int, default=500, help="Pages written per transaction (default 500).")

    def handle(self, *args, pages, languages: str, batch, workers, hub_size, **options):
        if not settings.DEBUG:
            raise CommandError(
                "make_scale_content fills the site with sample pages, so it runs only with DEBUG on "
                "(a development or benchmark database), never on a live site."
            )
        codes = self.languages(languages)
        if not 1 <= pages <= scale.MOST_PAGES:
            raise CommandError(f"--pages must be between 1 and {scale.MOST_PAGES:,}; it was {pages:,}.")
        if not 1 <= batch <= 5_000:
            raise CommandError(f"--batch must be between 1 and 5,000; it was {batch:,}.")
        if not 1 <= hub_size <= scale.MOST_PAGES:
            raise CommandError(f"--hub-size must be between 1 and {scale.MOST_PAGES:,}; it was {hub_size:,}.")
        if not 1 <= workers <= 64:
            raise CommandError(f"--workers must be between 1 and 64; it was {workers:,}.")
        began = time.monotonic()

        def report(done: int, live: int) -> None:
            elapsed = time.monotonic() - began
            left = elapsed / done * (pages - done)
            self.stdout.write(
                f"  {done:,} / {pages:,} pages, {live:,} live versions, {elapsed:.0f} s so far, about {left:.0f} s left"
            )

        self.stdout.write(f"Making {pages:,} pages live in {', '.join(codes)}, {batch:,} a transaction")
        # The pages that show the new ones (the hubs' lists of children) are composed again once,
        # at the end, rather than by this process's thread racing every batch for the live site.
        with snapshots.rebuilt_by_the_caller():
            made, live = scale.make(
                pages=pages, language_codes=codes, batch=batch, workers=workers, hub_size=hub_size, report=report
            )
        rebuilt, failed = snapshots.rebuild_all_waiting()
        if rebuilt or failed:
            self.stdout.write(f"Composed again the {rebuilt:,} pages that show the new ones")
        if failed:
            raise CommandError(
                f"{failed:,} pages could not be composed again (see the log); they are composed on each "
                "request until `manage.py rebuild_waiting_pages` succeeds."
            )
        total = scale.existing_pages()
        self.stdout.write(
            f"Made {made:,} pages and {live:,} live versions in {time.monotonic() - began:.0f} s; "
            f"the site now has {total:,} scale pages."
        )

    def languages(self, given: str) -> list[str]:
        codes = [code.strip() for code in given.split(",") if code.strip()]
        unknown = [code for code in codes if not languages.is_known(code)]
        if unknown:
            raise CommandError(
                f"Unknown language {', '.join(map(repr, unknown))}: the site has {', '.join(languages.codes())}."
            )
        if languages.source() not in codes:
            raise CommandError(
                f"--languages must include the source language, {languages.source()}: the others fall back on it."
            )
        return codes
