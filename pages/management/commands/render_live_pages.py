from django.core.management.base import BaseCommand

from pages import publishing, rendering
from pages.models import LiveSnapshot

BATCH = 200


class Command(BaseCommand):
    help = (
        "Render every live page again, store it, and empty the public page cache. Run after a deploy that "
        "changed the page templates, the stylesheet or the translations (until then such pages are rendered "
        "on each request, slower), and after restoring a backup (with --all)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", dest="everything", help="Also those already rendered with today's templates."
        )

    def handle(self, *args, everything, **options):
        current = rendering.key()
        stale = LiveSnapshot.objects.live()
        if not everything:
            stale = stale.exclude(html_key=current)
        ids = list(stale.order_by("pk").values_list("pk", flat=True))
        done = 0
        # Each batch is one change to the live site (and empties the public page cache of every
        # app server, even when nothing needed rendering: after restoring a backup, this is how
        # the cache forgets what is no longer live).
        for start in range(0, max(len(ids), 1), BATCH):
            done += publishing.render_again(ids[start : start + BATCH])
            if options["verbosity"] >= 2 or len(ids) > BATCH:
                self.stdout.write(f"  {min(start + BATCH, len(ids))} of {len(ids)}")
        withdrawn = f" ({len(ids) - done} withdrawn meanwhile)" if len(ids) > done else ""
        self.stdout.write(self.style.SUCCESS(f"Rendered {done} live page(s){withdrawn}."))
