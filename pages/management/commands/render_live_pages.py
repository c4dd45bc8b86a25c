from django.core.management.base import BaseCommand
from django.db import transaction

from pages import cache, rendering
from pages.models import LiveSnapshot
from pages.publishing import lock_live_site

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
        stale = LiveSnapshot.objects.filter(withdrawn_at__isnull=True)
        if not everything:
            stale = stale.exclude(html_key=current)
        ids = list(stale.order_by("pk").values_list("pk", flat=True))
        done = 0
        for start in range(0, len(ids), BATCH):
            with transaction.atomic():
                # A publish at the same moment neither overwrites this nor is overwritten.
                lock_live_site()
                batch = LiveSnapshot.objects.filter(pk__in=ids[start : start + BATCH])
                for snapshot in batch.filter(withdrawn_at__isnull=True).select_related("page"):
                    rendering.store(snapshot)
                    snapshot.save(update_fields=["html", "html_key", "text"])
                    done += 1
            if options["verbosity"] >= 2 or len(ids) > BATCH:
                self.stdout.write(f"  {min(start + BATCH, len(ids))} of {len(ids)}")
        # Every app server drops the pages it cached, whether or not any was rendered: after
        # restoring a backup, this is how the cache forgets what is no longer live.
        cache.invalidate()
        withdrawn = f" ({len(ids) - done} withdrawn meanwhile)" if len(ids) > done else ""
        self.stdout.write(self.style.SUCCESS(f"Rendered {done} live page(s){withdrawn}."))
