import time

from django.core.management.base import BaseCommand, CommandError

from pages import publishing
from pages.models import LiveSnapshot


class Command(BaseCommand):
    help = (
        "Compose again and store the live pages waiting for it: those that show a page published, withdrawn or "
        "moved while more than DEPENDENTS_REBUILT_AT_ONCE others showed it too. Until then they are composed on "
        "each request (correct, slower). App servers do this in the background; run it from cron every few "
        "minutes as well, for those a server left when it stopped."
    )

    def handle(self, *args, **options):
        waiting = LiveSnapshot.objects.filter(needs_rebuild=True).count()
        if not waiting:
            self.stdout.write("No page is waiting to be rebuilt.")
            return
        self.stdout.write(f"Rebuilding {waiting:,} page(s)")
        began = time.monotonic()

        def report(done: int, failed: int) -> None:
            failures = f", {failed:,} failed" if failed else ""
            self.stdout.write(f"  {done:,} of {waiting:,}{failures}, {time.monotonic() - began:.1f} s so far")

        done, failed = publishing.rebuild_all_waiting(report)
        seconds = time.monotonic() - began
        if failed:
            raise CommandError(
                f"Rebuilt {done:,} page(s) in {seconds:.1f} s; {failed:,} could not be composed again (see the log "
                "for why). Readers get them composed on each request, which fails the same way: look at them first."
            )
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {done:,} page(s) in {seconds:.1f} s."))
